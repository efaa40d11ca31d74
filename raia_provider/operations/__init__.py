"""Declarations of raia's operations, one :class:`~raia_provider._core.operation.RaiaRequest` each.

``RaiaHook`` exposes each as a method; ``hook.send(declaration)`` sends one directly.
"""
