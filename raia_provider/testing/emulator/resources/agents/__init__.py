"""``/external/agents``: the agent's profile and the page of its conversation users.

:mod:`.wire` builds the profile, :mod:`.routes` serves the operations. The agent itself is
:class:`~raia_provider.testing.emulator.state.Agent` (created with the emulator or through the control API).
"""
