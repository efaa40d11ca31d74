"""Routers of the emulated ``/external`` API, one module per resource.

To emulate another resource (conversations, users, files, webhooks), add a module with an ``APIRouter``
named ``router`` and list it in :data:`EXTERNAL_ROUTERS`; the pipeline then authenticates, rate-limits,
logs and faults it like the others.
"""

from __future__ import annotations

from fastapi import APIRouter

from raia_provider.testing.emulator.routes import agents, prompts

EXTERNAL_ROUTERS: tuple[APIRouter, ...] = (prompts.router, agents.router)
