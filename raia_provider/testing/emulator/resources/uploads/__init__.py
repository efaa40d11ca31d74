"""Signed upload URLs: issued by ``POST /external/prompts/upload-url`` and a conversation's
``message-files/upload-url`` (routes in :mod:`..prompts` and :mod:`..messages`), served by the emulator's
own storage service, on its own origin (see :mod:`~raia_provider.testing.emulator.origins`).

:mod:`.store` keeps what was issued and uploaded, :mod:`.wire` reads the ``upload-url`` body and builds the
URLs, :mod:`.routes` is the storage service (``/_emulator/uploads/{token}``).
"""
