"""raia operators."""
