"""``/external/conversation-message-feedbacks`` — create or update feedback on a message.

Contract choices where raia's spec is silent (see API_FACTS.md section 4.6):

* → 201 with the feedback, whether created or updated: one feedback per (message, ``userId``); a second call
  updates it (same ``id``, new ``updatedAt``).
* ``conversationMessageId`` must be a message of the calling agent (404 otherwise). ``userId`` is any UUID
  (raia does not say whose id it is); when it is one of the agent's conversation users, their email becomes
  the feedback's ``userEmail``.
* Feedback shows in the conversation's ``feedbacks`` and, with ``shouldIncludeFeedbacks=true``, in the
  message's ``conversationMessageFeedbacks``; ``withFeedbacksOnly`` lists filter on it.
"""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from raia_provider.testing.emulator.deps import AgentDep, StateDep, raia_errors
from raia_provider.testing.emulator.net import EXTERNAL_PREFIX
from raia_provider.testing.emulator.resources.feedback.wire import FeedbackBody, message_feedback_dto

router = APIRouter(prefix=f"{EXTERNAL_PREFIX}/conversation-message-feedbacks", tags=["Feedback"])


@router.post("", summary="Create or update message feedback", status_code=201)
async def create_or_update_feedback(body: FeedbackBody, agent: AgentDep, state: StateDep) -> JSONResponse:
    """Create or update the feedback of ``userId`` on a message → 201.

    :param body: the feedback.
    :param agent: the calling agent.
    :param state: the emulator state.
    """
    with raia_errors():
        feedback = state.workspace.upsert_feedback(
            agent.id,
            message_id=body.conversationMessageId.lower(),
            user_id=body.userId.lower(),
            vote_type=body.voteType,
            question=body.question,
            answer=body.answer,
            comment=body.comment,
        )
    return JSONResponse(message_feedback_dto(feedback), status_code=201)
