"""``/external/conversations/{id}/messages`` and friends: a conversation's messages, the agent's answers to
them (sync, or async and polled), manual messages and message files.

:mod:`.store` keeps messages and answers, :mod:`.wire` reads the bodies and renders the DTOs and polls,
:mod:`.routes` serves the operations (its docstring states the contract choices).
"""
