"""Addresses of the emulator: path prefixes and loopback-only hosts (no I/O, no heavy imports)."""

from __future__ import annotations

import ipaddress

LOCALHOST = "127.0.0.1"
EXTERNAL_PREFIX = "/external"
"""Path prefix of raia's external API."""
CONTROL_PREFIX = "/_emulator"
"""Path prefix of the emulator's control API."""


def loopback_host(host: str) -> str:
    """Return ``host`` as an IP literal if it is a loopback address, else refuse it.

    ``localhost`` is accepted and mapped to ``127.0.0.1``.

    :param host: a host name or IP literal.
    :raises ValueError: if ``host`` is not a loopback address.
    """
    if host == "localhost":
        return LOCALHOST
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        raise ValueError(f"the raia emulator only serves on loopback; {host!r} is not an IP address") from None
    if not address.is_loopback:
        raise ValueError(f"the raia emulator only serves on loopback; {host!r} is not a loopback address")
    return str(address)


def http_origin(host: str, port: int) -> str:
    """Return ``http://host:port`` (IPv6 literals bracketed).

    :param host: an IP literal.
    :param port: a TCP port.
    """
    shown = f"[{host}]" if ":" in host else host
    return f"http://{shown}:{port}"
