"""The raia emulator, split by job.

* :mod:`.answers` — deterministic answers and the fail marker;
* :mod:`.errors` — raia's error bodies;
* :mod:`.validation` — prompt body models, 400 details in class-validator style;
* :mod:`.bodies` — body and query checks of the conversation-side operations;
* :mod:`.multipart` — streaming digest of multipart uploads (size and SHA-256, never the bytes);
* :mod:`.records` / :mod:`.workspace` — per-agent users, conversations, messages, files, webhooks, limits,
  usage and feedback, and their life cycles;
* :mod:`.dtos` — raia's response DTOs built from those records;
* :mod:`.matching` — method/path patterns for faults and log filters;
* :mod:`.faults` — fault rules and the token-bucket rate limiter;
* :mod:`.requestlog` — the request log (key never stored);
* :mod:`.state` — agents, prompts, uploads, knobs (thread-safe);
* :mod:`.pipeline` — ASGI middleware: latency, faults, routing 404, auth, rate limit, logging;
* :mod:`.routes` — the ``/external`` routers, one per resource (all 44 ``Agent-Secret-Key`` operations;
  each module's docstring states its contract choices);
* :mod:`.control` — the ``/_emulator`` control API;
* :mod:`.app` — the FastAPI app factory;
* :mod:`.server` — ``RaiaEmulator`` (uvicorn in a background thread);
* :mod:`.client` — ``EmulatorClient`` for an emulator in another process;
* :mod:`.contract` — raia's spec with its known defects fixed, for contract tests;
* :mod:`.net` — path prefixes, loopback-only hosts, the webhook public-URL check (no DNS).

Contract choices where raia's facts are unsure (see ``API_FACTS.md``), each also noted where implemented:

* unknown or foreign prompt id on ``response-on`` → 404 ``ENTITY_NOT_FOUND`` (API_FACTS 6.7: 403 or 404);
* 400 ``details`` in class-validator style, blank strings rejected, optional fields absent but never
  ``null`` (the spec marks none nullable); never 422 (API_FACTS 6.8);
* 429 body and ``Retry-After`` from NestJS's throttler; the rate limit is per agent (API_FACTS 6.1);
* unknown route → NestJS's ``Cannot GET /path`` 404, checked before authentication;
* authentication before body validation (a bad key with a bad body is a 403);
* the signed upload URL takes a ``PUT`` of any content type (API_FACTS 6.10);
* error ``name`` is a string although the spec types it ``object`` (API_FACTS 0);
* injected faults act before routing and authentication, like a proxy or network failure in front of raia.

:mod:`.contract` states all of this as an OpenAPI document (raia's spec with its defects fixed), which the
emulator's own tests fuzz it against.

Nothing here does I/O at import; only :mod:`.app`, :mod:`.control`, :mod:`.pipeline`, :mod:`.routes` and
:mod:`.server` import FastAPI/Starlette/uvicorn.
"""
