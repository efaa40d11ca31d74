"""The control API under ``/_emulator`` (no auth; the server listens on loopback only).

It drives an emulator running in another process (the CLI, or a server started by Airflow components):
:class:`~raia_provider.testing.emulator.client.EmulatorClient` wraps it. JSON field names are the Python
names (snake_case). Errors use FastAPI's ``{"detail": ...}`` bodies — this API is ours, not raia's.

:mod:`.operations` holds the operations (``RaiaEmulator`` offers them in process), :mod:`.specs` the request
bodies, :mod:`.routes` the endpoints. The emulated storage service behind signed upload URLs
(``/_emulator/uploads/{token}``) is :mod:`..resources.uploads.routes`.

Conversation side: seed users and conversations, read users, conversations, messages, agent files,
webhooks and usage (``?agent_id=``, default agent when omitted), settle held message answers
(``/messages/{question_id}/complete|fail``) and vector-store uploads (``/agent-files/{id}/complete|fail``).
Unknown ids answer 404; a refused action (e.g. completing a settled answer) 400.
"""
