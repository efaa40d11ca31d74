"""raia's resources as the emulator serves them: one package per resource, holding its state and behaviour.

Each package has the same parts (a small resource leaves out what it does not need):

* ``store.py`` — the records (frozen dataclasses) and the store that keeps and changes them, per agent,
  with their life cycles. No HTTP. A store that needs another's records builds on that store (subclasses
  it); :class:`~raia_provider.testing.emulator.workspace.Workspace` unites them;
* ``wire.py`` — what travels: request bodies (pydantic, checked like raia's class-validator) and response
  DTOs (raia's field names);
* ``routes.py`` — the FastAPI router of the resource's ``/external`` operations; its docstring states every
  choice made where raia's spec is silent.

Importing a store or a wire module loads no web framework; only ``routes.py`` modules import FastAPI.
Shared pieces are written once, outside: lookups, per-agent tables and reset in :mod:`..storage`; field
checks in :mod:`..body_fields`, 400s in :mod:`..validation`, query parameters in :mod:`..query`, pages in
:mod:`..paging`; DTO conventions in :mod:`..rendering`; route dependencies and the 404/400 of a refusal in
:mod:`..deps`; authentication, rate limit, faults and the request log in :mod:`..pipeline`.

========================  ==========================================================================
package                   raia's operations
========================  ==========================================================================
:mod:`.prompts`           ``/prompts``, ``/prompts/async``, ``/prompts/{id}/response-on``, ``/prompts/upload-url``
:mod:`.agents`            ``/agents/by-api-key``, ``/agents/users``
:mod:`.webhooks`          ``/agents/webhooks``
:mod:`.users`             ``/users``, ``/users/search``, ``/users/{id}``
:mod:`.limits`            ``/agents/limits``, ``/users/{id}/limits``
:mod:`.usage`             ``/agents/statistic``, ``/resource-usage``
:mod:`.conversations`     ``/conversations``, ``/conversations/start``, ``/conversations/states``,
                          ``/conversations/{id}``, ``/conversations/{id}/mode``
:mod:`.messages`          ``/conversations/{id}/messages…``, ``…/send-manual-message``, ``…/message-files…``
:mod:`.agent_files`       ``/agent-files…``
:mod:`.feedback`          ``/conversation-message-feedbacks``
:mod:`.uploads`           (the signed upload URLs: ``/_emulator/uploads/{token}``)
========================  ==========================================================================

To teach the emulator raia's next endpoint: add its records and store methods to the resource's
``store.py``, its body and DTO to ``wire.py``, its route to ``routes.py``, and its (method, path) to
:data:`~raia_provider.testing.emulator.contract.SERVED_OPERATIONS`. A new resource is a new package, its
store added to ``Workspace``'s bases and its router to
:data:`~raia_provider.testing.emulator.routers.EXTERNAL_ROUTERS`.
"""
