"""Addresses: the emulator's path prefixes and loopback-only hosts, and the public-URL check of webhooks
(no I/O — never a DNS lookup — and no heavy imports)."""

from __future__ import annotations

import ipaddress
import socket
import urllib.parse

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


_BLOCKED_SUFFIXES = (".localhost", ".internal", ".local", ".localdomain", ".home.arpa")
_BLOCKED_NAMES = frozenset({"localhost", "localhost.localdomain"})


def _literal_address(host: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    """Return the address a host *literal* denotes, including the short and numeric IPv4 forms that
    resolvers accept (``127.1``, ``2130706433``, ``0x7f.0.0.1``, ``0177.0.0.1``), or ``None`` for a name."""
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        pass
    try:
        return ipaddress.IPv4Address(socket.inet_aton(host))  # inet_aton parses, never resolves
    except (OSError, ValueError):
        return None


def _public(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    if isinstance(address, ipaddress.IPv6Address):
        mapped = address.ipv4_mapped or address.sixtofour
        if mapped is not None:
            return _public(mapped)
    return address.is_global and not (
        address.is_private
        or address.is_loopback
        or address.is_link_local
        or address.is_reserved
        or address.is_multicast
        or address.is_unspecified
    )


def is_public_https_url(url: str) -> bool:
    """Tell whether ``url`` is an HTTPS URL whose host can be public, **without resolving DNS**.

    Refused: other schemes; no host; IP literals (any IPv4 spelling, IPv6, IPv4-mapped IPv6) in private,
    loopback, link-local (incl. the ``169.254.169.254`` metadata service), shared, reserved, multicast or
    unspecified ranges; ``localhost`` and names under ``.localhost``, ``.internal``, ``.local``,
    ``.localdomain``, ``.home.arpa``; single-label names (only a search domain could resolve them).
    Any other name is accepted: raia also checks what the name resolves to, which the emulator (no network)
    cannot.

    :param url: the URL to check.
    """
    try:
        parts = urllib.parse.urlsplit(url.strip())
        host = parts.hostname
        _ = parts.port  # a malformed port raises ValueError
    except ValueError:
        return False
    if parts.scheme.lower() != "https" or not host:
        return False
    host = host.rstrip(".").lower()
    address = _literal_address(host)
    if address is not None:
        return _public(address)
    if host in _BLOCKED_NAMES or host.endswith(_BLOCKED_SUFFIXES) or "." not in host:
        return False
    return all(label and len(label) <= 63 for label in host.split("."))
