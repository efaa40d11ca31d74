"""``/external/agents/webhooks``: register a webhook (raia has no list, update or delete operation).

:mod:`.store` keeps each agent's webhooks, :mod:`.wire` reads the body and renders the DTOs, :mod:`.routes`
serves the operation (its docstring states the contract choices). The agent profile lists them.
"""
