"""Airflow Assets of the raia provider (the ``raia://`` URI scheme)."""
