"""``/external/users`` — conversation users (their monthly limits are :mod:`..limits`).

Contract choices where raia's spec is silent (see API_FACTS.md section 4.6):

* The body's three ``oneOf`` variants (phone / email / fkId) are read as "at least one of them": a body with
  several identifiers is one user with all of them (the published ``oneOf`` would refuse it, see
  :mod:`...contract`). Blank identifiers count as absent.
* "User already exists." (400, the text in ``message``) when the phone number, email or fkId is already
  taken by another user **of this agent**; users of other agents are invisible.
* ``GET /users/search`` needs at least one of ``email``, ``phoneNumber``, ``fkId`` (400 otherwise) and
  returns the user matching **all** given ones, with their conversation ids oldest first; 404 if none.
  Query strings decode ``+`` as a space (as Express does): send ``%2B`` for a phone number's plus.
* ``DELETE /users/{id}`` → 204, empty body; it also deletes the user's conversations (with their messages
  and feedback) and own limits.
"""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse, Response

from raia_provider.testing.emulator.deps import AgentDep, StateDep, raia_errors
from raia_provider.testing.emulator.net import EXTERNAL_PREFIX
from raia_provider.testing.emulator.resources.users.wire import CreateUserBody, contact_details, user_dto
from raia_provider.testing.emulator.validation import detail, refuse

router = APIRouter(prefix=f"{EXTERNAL_PREFIX}/users", tags=["Users"])


def _given(value: str | None) -> str | None:
    return value if value is not None and value.strip() else None


@router.post("", summary="Create a conversation user", status_code=201)
async def create_user(body: CreateUserBody, agent: AgentDep, state: StateDep) -> JSONResponse:
    """Create a conversation user → 201 ``ExternalApiUserResponseDTO``.

    :param body: the user.
    :param agent: the calling agent.
    :param state: the emulator state.
    """
    phone, email, fk_id = _given(body.phoneNumber), _given(body.email), _given(body.fkId)
    details = []
    if phone is None and email is None and fk_id is None:
        details.append(detail("phoneNumber", "isNotEmpty", "one of phoneNumber, email or fkId should not be empty"))
    refuse(details + contact_details(body))
    with raia_errors():
        user = state.workspace.create_user(
            agent.id,
            first_name=body.firstName,
            last_name=body.lastName,
            email=email,
            phone_number=phone,
            fk_id=fk_id,
            fk_user_id=body.fkUserId,
            context=body.context,
            source=body.source,
            custom_data=body.customData,
        )
    return JSONResponse(user_dto(user), status_code=201)


@router.get("/search", summary="Find a conversation user by contact info")
async def search_user(
    agent: AgentDep,
    state: StateDep,
    email: str | None = None,
    phoneNumber: str | None = None,
    fkId: str | None = None,
) -> JSONResponse:
    """Find the user matching every given contact → ``{user, conversationIds}``.

    :param agent: the calling agent.
    :param state: the emulator state.
    :param email: email to match.
    :param phoneNumber: phone number to match.
    :param fkId: fkId to match.
    """
    email, phone, fk_id = _given(email), _given(phoneNumber), _given(fkId)
    if email is None and phone is None and fk_id is None:
        refuse([detail("email", "isNotEmpty", "one of email, phoneNumber or fkId should not be empty")])
    with raia_errors():
        user = state.workspace.find_user(agent.id, email=email, phone_number=phone, fk_id=fk_id)
    conversation_ids = [c.id for c in state.workspace.conversations(agent.id) if c.user_id == user.id]
    return JSONResponse({"user": user_dto(user), "conversationIds": conversation_ids})


@router.get("/{user_id}", summary="Get a conversation user")
async def get_user(user_id: str, agent: AgentDep, state: StateDep) -> JSONResponse:
    """One user of the calling agent.

    :param user_id: the user id.
    :param agent: the calling agent.
    :param state: the emulator state.
    """
    with raia_errors():
        return JSONResponse(user_dto(state.workspace.user(agent.id, user_id)))


@router.delete("/{user_id}", summary="Delete a conversation user", status_code=204, response_class=Response)
async def delete_user(user_id: str, agent: AgentDep, state: StateDep) -> Response:
    """Delete a user and their conversations → 204.

    :param user_id: the user id.
    :param agent: the calling agent.
    :param state: the emulator state.
    """
    with raia_errors():
        state.workspace.delete_user(agent.id, user_id)
    return Response(status_code=204)
