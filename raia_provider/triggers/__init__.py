"""raia triggers."""
