"""Turn an Airflow ``raia`` connection into validated settings, before any request is made."""

from __future__ import annotations

import ipaddress
import json
import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Final
from urllib.parse import quote, urlsplit

from raia_provider._core.form import CONN_FIELDS, DEFAULT_REGION, EXTRA_ONLY_FIELDS, RATE_BUDGET_FIELD, REGION_BASE_URLS
from raia_provider.exceptions import RaiaConfigurationError

if TYPE_CHECKING:
    from airflow.sdk import Connection

_WHITESPACE = re.compile(r"\s")
#: Older Airflow forms stored custom fields as ``extra__<conn type>__<name>``.
_LEGACY_PREFIX = "extra__raia__"


@dataclass(frozen=True)
class RaiaConnectionSettings:
    """What the hook needs from a connection: where to send requests and with which key.

    :param conn_id: the Airflow connection id (used in messages).
    :param region: ``us`` or ``eu``.
    :param base_url: the API root, e.g. ``https://api.raia2.com/external`` (no trailing slash).
    :param api_key: the agent's secret key; never shown by ``repr``.
    :param requests_per_second: the connection's rate budget, or ``None`` for no client-side limit.
    """

    conn_id: str
    region: str
    base_url: str
    api_key: str = field(repr=False)
    requests_per_second: float | None = None

    @classmethod
    def from_connection(cls, conn: Connection, extra: Any = None) -> RaiaConnectionSettings:
        """Validate ``conn`` and build settings from it.

        :param conn: an Airflow connection of type ``raia``.
        :param extra: the connection's extra, already decoded; async callers read it with the async API
            because ``conn.extra_dejson`` blocks on the supervisor. ``None`` reads ``conn.extra_dejson``.
        :raises RaiaConfigurationError: naming the field that is wrong and what is allowed.
        """
        conn_id = conn.conn_id or "<unnamed>"
        extra = _extra_of(conn, extra)
        return cls(
            conn_id=conn_id,
            region=(region := _region_of(conn_id, extra)),
            base_url=_base_url_of(conn_id, conn, region, insecure_http=_insecure_http_allowed(conn_id, extra)),
            api_key=_key_of(conn_id, conn.password),
            requests_per_second=_rate_budget_of(conn_id, extra),
        )


CONNECTION_DOCS: Final = "https://github.com/raia-ai/airflow-provider-raia/blob/main/docs/connections/raia.rst"


def connection_not_found(conn_id: str) -> RaiaConfigurationError:
    """The error for a ``raia`` connection id that Airflow does not know, with a connection that would work.

    Airflow's own ``AirflowNotFoundException`` names the id under a long traceback; this says where the
    connection could come from and gives the one line that defines it in the environment.
    """
    line = _export_line(conn_id, {"conn_type": "raia", "password": "<agent secret key>", "extra": {"region": "us"}})
    return RaiaConfigurationError(
        f"raia connection {conn_id!r} is not defined: Airflow found no connection with conn_id={conn_id!r} in "
        "its secrets backends, the environment or its database. Add it in the UI (Admin > Connections, type "
        f"'raia'), or define it for this process with one line:\n{line}\n"
        'Use "region": "eu" for an EU agent, or "host": "http://127.0.0.1:8080/external" for the emulator. '
        f"The connection page: {CONNECTION_DOCS}"
    )


def _export_line(conn_id: str, connection: dict[str, Any]) -> str:
    """The shell line that defines ``connection`` as ``conn_id`` in the environment, indented for a message."""
    env_name = "AIRFLOW_CONN_" + re.sub(r"[^0-9A-Za-z]", "_", conn_id).upper()
    return f"    export {env_name}='{json.dumps(connection)}'"


def _fail(conn_id: str, problem: str) -> RaiaConfigurationError:
    return RaiaConfigurationError(f"raia connection {conn_id!r}: {problem}")


def _extra_of(conn: Connection, extra: Any) -> dict[str, Any]:
    raw = getattr(conn, "extra", None)
    if isinstance(raw, str) and raw.strip():
        # Parsed here rather than through extra_dejson, which logs bad JSON and reads it as {}: the region
        # would silently fall back to 'us'.
        try:
            parsed = json.loads(raw)
        except ValueError as exc:
            raise _fail(
                conn.conn_id or "<unnamed>",
                f'the Extra field is not valid JSON ({exc}); write e.g. {{"region": "eu"}}.',
            ) from None
        if extra is None:
            extra = parsed
    try:
        if extra is None:
            extra = conn.extra_dejson
    except Exception as exc:  # Airflow raises different types across versions for bad JSON
        raise _fail(conn.conn_id or "<unnamed>", f"the Extra field is not valid JSON ({exc}).") from None
    if not isinstance(extra, Mapping):
        raise _fail(conn.conn_id or "<unnamed>", 'the Extra field must be a JSON object like {"region": "eu"}.')
    normalised = {k.removeprefix(_LEGACY_PREFIX): v for k, v in extra.items()}
    known = [*CONN_FIELDS, *EXTRA_ONLY_FIELDS]
    unknown = sorted(set(normalised) - set(known))
    if unknown:
        # A silently ignored typo such as "regoin" would send EU data to the US endpoint.
        raise _fail(
            conn.conn_id or "<unnamed>",
            f"unknown Extra field(s) {', '.join(map(repr, unknown))}; allowed: {', '.join(map(repr, known))}.",
        )
    return normalised


def _region_of(conn_id: str, extra: Mapping[str, Any]) -> str:
    raw = extra.get("region")
    if raw is None or raw == "":
        return DEFAULT_REGION
    region = raw.strip().lower() if isinstance(raw, str) else raw
    if not isinstance(region, str) or region not in REGION_BASE_URLS:  # a list or dict is not hashable
        allowed = ", ".join(f"{name!r} ({url})" for name, url in REGION_BASE_URLS.items())
        raise _fail(conn_id, f"Extra field 'region' is {raw!r}; allowed values: {allowed}.")
    return str(region)


def _key_of(conn_id: str, password: str | None) -> str:
    if not password:
        raise _fail(
            conn_id,
            "the Agent Secret Key (password field) is empty. Copy the key of the agent's API Skill "
            "from raia Launch Pad into the connection's password.",
        )
    if _WHITESPACE.search(password):
        # The key is never echoed, not even in part; say only where the problem is.
        where = "at its start or end" if password.strip() != password else "inside it"
        raise _fail(
            conn_id,
            f"the Agent Secret Key (password field) contains whitespace {where}, which a raia key never "
            "does; it was probably pasted with a space or line break. Re-enter the key.",
        )
    for position, character in enumerate(password, start=1):
        if not "!" <= character <= "~":  # a header value: printable ASCII only (the key is sent as one)
            # Only where and what kind: never the character itself, nor any other part of the key.
            kind = "a control character" if unicodedata.category(character) == "Cc" else "a non-ASCII character"
            if unicodedata.category(character) == "Cf":
                kind = "an invisible formatting character (such as a zero-width space)"
            raise _fail(
                conn_id,
                f"the Agent Secret Key (password field) holds {kind} at position {position} of its "
                f"{len(password)}; a raia key is printable ASCII only. It was probably copied with "
                "formatting from a document or chat: re-enter the key from raia Launch Pad.",
            )
    return password


def _insecure_http_allowed(conn_id: str, extra: Mapping[str, Any]) -> bool:
    raw = extra.get("allow_insecure_http", False)
    if isinstance(raw, str) and raw.strip().lower() in ("true", "false"):
        return raw.strip().lower() == "true"
    if not isinstance(raw, bool):
        raise _fail(conn_id, f"Extra field 'allow_insecure_http' must be true or false, got {raw!r}.")
    return raw


def _rate_budget_of(conn_id: str, extra: Mapping[str, Any]) -> float | None:
    raw = extra.get(RATE_BUDGET_FIELD)
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return None
    value: Any = raw
    if isinstance(raw, str):  # the form stores what was typed
        try:
            value = float(raw.strip())
        except ValueError:
            value = None
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 < value < float("inf"):
        raise _fail(
            conn_id,
            f"Extra field {RATE_BUDGET_FIELD!r} is {raw!r}; it must be a number of requests per second greater "
            "than 0 (e.g. 50 or 0.5), or empty for no client-side limit.",
        )
    return float(value)


def _is_loopback(host: str) -> bool:
    if host.lower() == "localhost" or host.lower().endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _base_url_of(conn_id: str, conn: Connection, region: str, *, insecure_http: bool) -> str:
    host = (conn.host or "").strip()
    if "://" not in host and (conn.schema or conn.port):
        raise _fail(conn_id, _split_url_advice(conn_id, host, conn.port, conn.schema or ""))
    for name in ("schema", "login", "port"):
        if getattr(conn, name, None) not in (None, ""):
            raise _fail(
                conn_id,
                f"the {name!r} field is not used by raia connections (it is hidden in the form). Put the "
                "whole base URL in 'host', e.g. http://127.0.0.1:8080/external, or leave host empty.",
            )
    if not host:
        return REGION_BASE_URLS[region]
    example = "e.g. https://api.raia2.com/external or http://127.0.0.1:8080/external"
    parts = urlsplit(host)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise _fail(
            conn_id,
            f"host {_safe(host)!r} is not a base URL: it must start with http:// or https:// and name a "
            f"host ({example}). Leave host empty to use the region's URL.",
        )
    if parts.username or parts.password:
        raise _fail(conn_id, "host must not carry credentials (user:password@); the key goes in password.")
    if parts.query or parts.fragment or _WHITESPACE.search(host):
        raise _fail(conn_id, f"host {_safe(host)!r} must be a plain base URL without spaces, ?query or #fragment.")
    try:
        parts.port  # noqa: B018 - urlsplit validates the port lazily, on access
    except ValueError:
        raise _fail(conn_id, f"host {_safe(host)!r} has an invalid port ({example}).") from None
    if parts.scheme == "http" and not _is_loopback(parts.hostname) and not insecure_http:
        raise _fail(
            conn_id,
            f"host {_safe(host)!r} is plain http:// to a host that is not loopback, so the Agent Secret Key "
            "would travel in clear text. Use https://, or, if the network path is trusted (a TLS-terminating "
            'sidecar), opt in with {"allow_insecure_http": true} in the Extra field.',
        )
    return host.rstrip("/")


def _split_url_advice(conn_id: str, host: str, port: int | None, schema: str) -> str:
    """Explain a base URL that Airflow's URI parsing split into host, port and 'schema', and give the fix.

    ``raia://:KEY@127.0.0.1:8080/external`` is parsed as host ``127.0.0.1``, port ``8080`` and schema
    ``external``, and the URI form has no place for http or https, so the user sees a field they never typed.
    """
    bare_host = host.rsplit("@", 1)[-1] or "127.0.0.1"
    scheme = "http" if _is_loopback(bare_host) else "https"
    base_url = f"{scheme}://{bare_host}{f':{port}' if port else ''}/{schema.strip('/')}".rstrip("/")
    as_json = _export_line(conn_id, {"conn_type": "raia", "host": base_url, "password": "<agent secret key>"})
    held = ", ".join(f"{name}={value!r}" for name, value in (("schema", schema), ("port", port)) if value)
    return (
        f"the base URL was split into fields: {held}. Written as a URI (raia://:KEY@host:port/external), "
        "Airflow puts the URL's path in 'schema' and its port in 'port', and keeps no http or https; a raia "
        f"connection takes the whole base URL in 'host'. Write it as JSON:\n{as_json}\n"
        f"or as a URI whose host is the URL-encoded base URL: raia://:<agent secret key>@{quote(base_url, safe='')}"
    )


def _safe(host: str) -> str:
    """Return ``host`` without any userinfo, so that a message never repeats a credential."""
    parts = urlsplit(host)
    if parts.username or parts.password:
        return host.replace(parts.netloc, parts.netloc.rsplit("@", 1)[-1])
    return host
