"""Matching of request methods and paths, shared by fault rules and request-log filters.

A path pattern is one of:

* ``"*"`` — any path;
* a path ending in ``*`` — a prefix (``/external/prompts*`` matches ``/external/prompts/async`` too);
* a template whose ``{name}`` segments each match one non-empty path segment
  (``/external/prompts/{id}/response-on``);
* anything else — the exact path.

Regular expressions are deliberately not supported: templates read like the spec's paths. Patterns match
the request path only, never the query string. A method of ``"*"`` (or ``None``) matches any method;
methods compare case-insensitively.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

ANY = "*"
_PARAM = re.compile(r"\{[^/{}]+\}")


def _compile(pattern: str) -> re.Pattern[str]:
    if pattern == ANY:
        return re.compile(r".*", re.DOTALL)
    prefix = pattern.endswith(ANY)
    body = pattern[:-1] if prefix else pattern
    parts: list[str] = []
    last = 0
    for param in _PARAM.finditer(body):
        parts.append(re.escape(body[last : param.start()]))
        parts.append(r"[^/]+")
        last = param.end()
    parts.append(re.escape(body[last:]))
    return re.compile("".join(parts) + (r".*" if prefix else ""), re.DOTALL)


@dataclass(frozen=True)
class RequestMatcher:
    """Match a request by method and path pattern (see the module docstring for the pattern syntax).

    :param method: an HTTP method, or ``"*"`` for any.
    :param path: a path pattern.
    """

    method: str = ANY
    path: str = ANY
    _regex: re.Pattern[str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "method", self.method.upper())
        object.__setattr__(self, "_regex", _compile(self.path))

    def matches(self, method: str, path: str) -> bool:
        """Tell whether a request with ``method`` and ``path`` matches.

        :param method: the request method.
        :param path: the request path (no query string).
        """
        if self.method != ANY and self.method != method.upper():
            return False
        return self._regex.fullmatch(path) is not None
