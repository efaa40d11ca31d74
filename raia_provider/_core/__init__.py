"""Internals shared by the hook's sync and async halves: settings, operations, retries, transports."""
