"""Every resource's record types, in one import (they are defined with their stores, in :mod:`.resources`).

Records are frozen dataclasses, one per stored entity, owned by one agent each. Times are wall-clock
seconds since the epoch (``created_at``, ``updated_at``), rendered as ISO 8601 in the DTOs; ``seq`` is a
creation counter that breaks ties between equal times. Delays (an async message, a vector-store upload) are
on the monotonic clock (``due_at``), like async prompts. ``RaiaEmulator`` and ``EmulatorClient`` return them.
"""

from __future__ import annotations

from raia_provider.testing.emulator.resources.agent_files.store import AgentFile, VectorStoreStatus
from raia_provider.testing.emulator.resources.conversations.store import (
    Channel,
    Conversation,
    ConversationMode,
    ConversationState,
    ConversationStatus,
)
from raia_provider.testing.emulator.resources.feedback.store import Feedback, VoteType
from raia_provider.testing.emulator.resources.limits.store import Limits
from raia_provider.testing.emulator.resources.messages.store import (
    Message,
    MessageFile,
    MessageJob,
    MessageJobStatus,
    SenderRole,
)
from raia_provider.testing.emulator.resources.prompts.store import PromptRecord
from raia_provider.testing.emulator.resources.uploads.store import KeyLeak, Upload
from raia_provider.testing.emulator.resources.usage.store import UsageEvent, UsageKind
from raia_provider.testing.emulator.resources.users.store import ConversationUser
from raia_provider.testing.emulator.resources.webhooks.store import TriggerCondition, Webhook

__all__ = [
    "AgentFile",
    "Channel",
    "Conversation",
    "ConversationMode",
    "ConversationState",
    "ConversationStatus",
    "ConversationUser",
    "Feedback",
    "KeyLeak",
    "Limits",
    "Message",
    "MessageFile",
    "MessageJob",
    "MessageJobStatus",
    "PromptRecord",
    "SenderRole",
    "TriggerCondition",
    "Upload",
    "UsageEvent",
    "UsageKind",
    "VectorStoreStatus",
    "VoteType",
    "Webhook",
]
