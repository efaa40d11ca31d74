"""Apache Airflow provider for the raia AI-agent platform.

Import what you need from its submodules (``raia_provider.hooks.raia`` and so on); this package module
only carries the version, so that parsing a DAG file that imports the provider stays cheap.
"""

from __future__ import annotations

__version__ = "0.1.0"

__all__ = ["__version__"]
