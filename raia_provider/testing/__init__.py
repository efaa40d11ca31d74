"""Test helpers for the raia provider: an emulator of raia's external API.

The emulator is a real HTTP server (FastAPI + uvicorn) on a loopback port that follows raia's documented
contract, so tests, example DAGs and benchmarks run without the real service::

    from raia_provider.testing import RaiaEmulator

    with RaiaEmulator(key="my-test-key") as emu:
        requests.post(f"{emu.base_url}/prompts", json={"prompt": "Hi"},
                      headers={"Agent-Secret-Key": emu.default_key})

Run it standalone with ``python -m raia_provider.testing --port 0 --key KEY``; drive a standalone one with
:class:`EmulatorClient`. Pytest fixtures: ``pytest_plugins = ["raia_provider.testing.pytest_plugin"]``.

Importing this package is cheap: FastAPI and uvicorn load only when an export is first used.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from raia_provider.testing.emulator.answers import (
        FAIL_MARKER,
        INVALID_JSON_MARKER,
        SCHEMA_MISMATCH_MARKER,
        ArrivedFile,
        answer_for,
    )
    from raia_provider.testing.emulator.client import EmulatorClient
    from raia_provider.testing.emulator.server import RaiaEmulator

__all__ = [
    "FAIL_MARKER",
    "INVALID_JSON_MARKER",
    "SCHEMA_MISMATCH_MARKER",
    "ArrivedFile",
    "EmulatorClient",
    "RaiaEmulator",
    "answer_for",
]

_EXPORTS = {
    "RaiaEmulator": "raia_provider.testing.emulator.server",
    "EmulatorClient": "raia_provider.testing.emulator.client",
    "answer_for": "raia_provider.testing.emulator.answers",
    "FAIL_MARKER": "raia_provider.testing.emulator.answers",
    "INVALID_JSON_MARKER": "raia_provider.testing.emulator.answers",
    "SCHEMA_MISMATCH_MARKER": "raia_provider.testing.emulator.answers",
    "ArrivedFile": "raia_provider.testing.emulator.answers",
}


def __getattr__(name: str) -> Any:
    """Import an export on first use.

    :param name: the attribute looked up on the package.
    """
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *__all__])
