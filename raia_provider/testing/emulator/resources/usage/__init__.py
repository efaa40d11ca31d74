"""Usage: what an agent consumed (tokens, SMS, emails, seconds), read by ``GET /external/agents/statistic``
and ``GET /external/agents/limits``, added to by ``POST /external/resource-usage``.

:mod:`.store` records the events, :mod:`.wire` reads the body and computes the statistic, :mod:`.routes`
serves the operations (its docstring states the contract choices).
"""
