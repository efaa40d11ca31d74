"""``/external/users``: conversation users (the end users an agent talks to).

:mod:`.store` keeps each agent's users, :mod:`.wire` reads the bodies and renders the DTO, :mod:`.routes`
serves the operations (its docstring states the contract choices). A user's monthly limits are
:mod:`..limits`; the page of an agent's users (``GET /external/agents/users``) is :mod:`..agents`.
"""
