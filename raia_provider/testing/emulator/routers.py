"""The routers the emulator's app serves, in routing order (see :mod:`.resources`)."""

from __future__ import annotations

from fastapi import APIRouter

from raia_provider.testing.emulator.resources.agent_files import routes as agent_files
from raia_provider.testing.emulator.resources.agents import routes as agents
from raia_provider.testing.emulator.resources.conversations import routes as conversations
from raia_provider.testing.emulator.resources.feedback import routes as feedback
from raia_provider.testing.emulator.resources.limits import routes as limits
from raia_provider.testing.emulator.resources.messages import routes as messages
from raia_provider.testing.emulator.resources.prompts import routes as prompts
from raia_provider.testing.emulator.resources.uploads import routes as uploads
from raia_provider.testing.emulator.resources.usage import routes as usage
from raia_provider.testing.emulator.resources.users import routes as users
from raia_provider.testing.emulator.resources.webhooks import routes as webhooks

EXTERNAL_ROUTERS: tuple[APIRouter, ...] = (
    prompts.router,
    agents.router,
    webhooks.router,
    users.router,
    limits.router,
    usage.router,
    conversations.router,
    messages.router,
    agent_files.router,
    feedback.router,
)
"""The ``/external`` routers, in routing order: where a fixed path shares a prefix with a templated one
(``/users/search`` before ``/users/{id}``), the module declares the fixed path first."""
STORAGE_ROUTERS: tuple[APIRouter, ...] = (uploads.router,)
"""Routers of what raia runs beside its API (the storage service behind signed URLs), under ``/_emulator``."""
