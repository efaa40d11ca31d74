"""``/external/conversations``: conversations with an agent's users, started on a channel or created, and
their states.

:mod:`.store` keeps conversations and states, :mod:`.start` starts one on a channel, :mod:`.wire` reads the
bodies and renders the DTOs, :mod:`.routes` serves the operations (its docstring states the contract
choices). A conversation's messages are :mod:`..messages`.
"""
