"""``/external/agent-files``: an agent's knowledge-base files (streamed uploads, never kept) and their
vector-store life cycle.

:mod:`.store` keeps the files' metadata and vector-store status, :mod:`.wire` reads the bodies and renders
the DTO, :mod:`.routes` serves the operations (its docstring states the contract choices).
"""
