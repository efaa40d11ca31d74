"""Routers of the emulated ``/external`` API, one module per resource.

To emulate another resource, add a module with an ``APIRouter`` named ``router`` and list it in
:data:`EXTERNAL_ROUTERS`; the pipeline then authenticates, rate-limits, logs and faults it like the others.
Order matters where a fixed path shares a prefix with a templated one (``/users/search`` before
``/users/{id}``, ``/conversations/states`` before ``/conversations/{id}``): each module declares its fixed
paths first.
"""

from __future__ import annotations

from fastapi import APIRouter

from raia_provider.testing.emulator.routes import (
    agent_files,
    agents,
    conversations,
    feedback,
    messages,
    prompts,
    resource_usage,
    users,
    webhooks,
)

EXTERNAL_ROUTERS: tuple[APIRouter, ...] = (
    prompts.router,
    agents.router,
    webhooks.router,
    users.router,
    conversations.router,
    messages.router,
    agent_files.router,
    feedback.router,
    resource_usage.router,
)
