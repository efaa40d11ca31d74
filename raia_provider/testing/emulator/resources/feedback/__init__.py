"""``/external/conversation-message-feedbacks``: feedback on messages, shown on conversations and messages.

:mod:`.store` keeps it, :mod:`.wire` reads the body and renders the DTOs, :mod:`.routes` serves the operation
(its docstring states the contract choices).
"""
