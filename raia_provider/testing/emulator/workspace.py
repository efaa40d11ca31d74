"""The conversation side of the emulator's state: the stores of every resource but prompts and uploads.

Each resource keeps its records and their life cycle in its own store (see :mod:`.resources`). A store that
builds on others subclasses them — messages build on conversations and usage, conversations on users, limits
on users — so :class:`Workspace`, their union, is one object holding each table once, with every store's
methods. Routes and the control API reach it as ``state.workspace``.
"""

from __future__ import annotations

from raia_provider.testing.emulator.resources.agent_files.store import AgentFileStore
from raia_provider.testing.emulator.resources.conversations.start import ChannelStarts
from raia_provider.testing.emulator.resources.feedback.store import FeedbackStore
from raia_provider.testing.emulator.resources.limits.store import LimitStore
from raia_provider.testing.emulator.resources.webhooks.store import WebhookStore


class Workspace(ChannelStarts, FeedbackStore, LimitStore, AgentFileStore, WebhookStore):
    """Every agent's users, limits, usage, conversations, messages, feedback, agent files and webhooks.

    :param context: the shared store context (the same one the prompt and upload stores use).
    """
