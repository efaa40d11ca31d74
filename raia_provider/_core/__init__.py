"""Client internals below the hook: settings, operation declarations, transports, retries, responses, multipart.

Nothing here imports :mod:`raia_provider.hooks` or :mod:`raia_provider.engines`: these modules are what the
hook is built from. ``tests/unit/test_layers.py`` holds that.
"""
