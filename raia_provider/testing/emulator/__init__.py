"""The raia emulator, split by job.

raia's resources — each one's records, store, bodies, DTOs and routes together — are in :mod:`.resources`
(one package per resource; its docstring maps raia's paths to them and says how to add an endpoint). Around
them, each piece written once:

* :mod:`.storage` — per-agent tables, lookups (``NotFound``/``Refused``), the shared lock, clocks and reset;
* :mod:`.workspace` — the conversation-side stores united; :mod:`.state` — agents, knobs, faults, rate
  limiter, request log, and the prompt and upload stores (thread-safe); :mod:`.config` — the knobs;
  :mod:`.records` — every record type in one import;
* :mod:`.body_fields`, :mod:`.validation`, :mod:`.query`, :mod:`.paging` — request checks in class-validator
  style, their 400s, query parameters and pages; :mod:`.rendering` — DTO conventions;
* :mod:`.answers` — deterministic answers, the fail and bad-JSON markers; :mod:`.structured_answers` — the
  JSON an agent with an output JSON Schema answers; :mod:`.errors` — raia's error bodies;
* :mod:`.multipart` — streaming digest of multipart uploads (size and SHA-256, never the bytes);
* :mod:`.matching` — method/path patterns for faults and log filters; :mod:`.faults` — fault rules and the
  token-bucket rate limiter; :mod:`.requestlog` — the request log (key never stored);
* :mod:`.pipeline` — ASGI middleware: latency, faults, routing 404, auth, rate limit, logging;
* :mod:`.deps` — the routes' dependencies, and a store's refusal turned into raia's 404 or 400;
* :mod:`.routers` — the routers served, in routing order; :mod:`.app` — the FastAPI app factory;
  :mod:`.origins` — the API's and the storage service's origins, told apart by socket;
* :mod:`.control` — the ``/_emulator`` control API (its operations, bodies and routes);
* :mod:`.server` — ``RaiaEmulator`` (uvicorn in a background thread; :mod:`.uvicorn_hooks`);
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
* the signed upload URL takes a ``PUT`` of any content type (API_FACTS 6.10), on a storage origin of its own,
  and refuses the ``Agent-Secret-Key`` header (403, recorded in ``key_leaks()``);
* ``aiConfig.outputJsonSchema`` is the schema as a JSON string (the spec's type); an agent with one answers
  with bare JSON text;
* error ``name`` is a string although the spec types it ``object`` (API_FACTS 0);
* injected faults act before routing and authentication, like a proxy or network failure in front of raia.

:mod:`.contract` states all of this as an OpenAPI document (raia's spec with its defects fixed), which the
emulator's own tests fuzz it against.

Nothing here does I/O at import; only :mod:`.app`, :mod:`.control.routes`, :mod:`.deps`, :mod:`.pipeline`,
:mod:`.routers`, the resources' ``routes`` modules, :mod:`.server` and :mod:`.uvicorn_hooks` import
FastAPI/Starlette/uvicorn, and :mod:`.origins` Starlette.
"""
