"""``/external/prompts``: stateless prompts, sync and async (created, then polled), and their file uploads.

:mod:`.store` keeps async prompts and settles them, :mod:`.wire` reads the body, :mod:`.routes` serves the
operations (its docstring states the contract choices). Answers come from
:mod:`~raia_provider.testing.emulator.answers`; upload URLs from :mod:`..uploads`.
"""
