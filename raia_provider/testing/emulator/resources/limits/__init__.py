"""``/external/agents/limits`` and ``/external/users/{id}/limits``: monthly limits of an agent or a user.

:mod:`.store` keeps them (stored, never enforced), :mod:`.wire` reads the bodies and renders the DTO,
:mod:`.routes` serves the operations (its docstring states the contract choices).
"""
