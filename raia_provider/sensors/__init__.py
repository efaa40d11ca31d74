"""raia sensors."""
