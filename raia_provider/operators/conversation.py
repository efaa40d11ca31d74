"""raia conversation operators: ``RaiaStartConversationOperator`` reaches a person by email, SMS or phone call."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, ClassVar, Literal

from pydantic import ValidationError

from raia_provider._core.operation import describe_validation_error
from raia_provider.exceptions import RaiaInputError
from raia_provider.operations.conversations import (
    StartEmailConversation,
    StartSmsConversation,
    StartVoiceConversation,
)
from raia_provider.operators.base import RaiaBaseOperator

if TYPE_CHECKING:
    from airflow.sdk import Context

    from raia_provider._core.operation import RaiaRequest
    from raia_provider.models.conversations import StartedConversation

#: The channels ``POST /conversations/start`` knows.
StartChannel = Literal["email", "sms", "voice"]

#: One hook declaration per channel: they hold every rule about the body (required fields, E.164 phone
#: numbers, email addresses, non-blank text, skip flags); the operator only adds what they cannot say.
_START_DECLARATIONS: Mapping[str, type[RaiaRequest[StartedConversation]]] = {
    "email": StartEmailConversation,
    "sms": StartSmsConversation,
    "voice": StartVoiceConversation,
}

#: Operator arguments named differently from the declaration's field: Airflow's ``BaseOperator`` already
#: has ``email`` (the address task-failure alerts go to, also filled from ``default_args``), so the
#: person's address is ``user_email`` here.
_START_ARGUMENT_FOR_FIELD: Mapping[str, str] = {"email": "user_email", "context": "user_context"}

#: The boolean arguments: not templated, so checked when the DAG is parsed.
_START_FLAGS = (
    "include_signature_in_email",
    "include_signature_in_sms",
    "reset_conversation",
    "skip_phone_number_validation",
    "skip_email_validation",
)


def _start_arguments(declaration: type[RaiaRequest[Any]]) -> dict[str, str]:
    """Operator argument -> declaration field, for every field but the implied ``channel``."""
    return {_START_ARGUMENT_FOR_FIELD.get(name, name): name for name in declaration.model_fields if name != "channel"}


def _start_required(declaration: type[RaiaRequest[Any]]) -> tuple[str, ...]:
    """The operator arguments the declaration requires (without ``channel``, which it fills in)."""
    return tuple(
        _START_ARGUMENT_FOR_FIELD.get(name, name)
        for name, field in declaration.model_fields.items()
        if field.is_required() and name != "channel"
    )


#: Per channel: operator argument -> declaration field.
_START_ARGUMENTS = {channel: _start_arguments(d) for channel, d in _START_DECLARATIONS.items()}
#: Per channel: the operator arguments it requires.
_START_REQUIRED = {channel: _start_required(d) for channel, d in _START_DECLARATIONS.items()}
#: Every operator argument some channel uses.
_START_ARGUMENTS_OF_ANY = frozenset(name for arguments in _START_ARGUMENTS.values() for name in arguments)


def _channels_list(channels: Sequence[str]) -> str:
    quoted = [repr(channel) for channel in channels]
    return quoted[0] if len(quoted) == 1 else ", ".join(quoted[:-1]) + " or " + quoted[-1]


class RaiaStartConversationOperator(RaiaBaseOperator):
    """Start (or continue) a conversation with a person: raia sends the first email or SMS, or calls them.

    Sends ``POST /conversations/start`` and returns the conversation's id (a string, pushed to XCom), e.g.
    for a ``RaiaSendMessageOperator`` downstream. Without ``reset_conversation``, starting again for the same
    person continues their current conversation.

    ``channel`` decides which arguments apply: ``email`` needs ``user_email``, ``email_subject`` and
    ``email_introduction``; ``sms`` needs an E.164 ``phone_number`` and ``sms_introduction``; ``voice`` needs
    an E.164 ``phone_number`` and ``first_message``. An argument another channel uses (``email_subject`` with
    ``sms``, say) is refused. Every check runs before any request: the channel, the flags and which
    arguments are given when the DAG is parsed, the templated values once rendered.

    :param channel: ``email``, ``sms`` or ``voice``.
    :param first_name: the person's first name; must contain text (templated).
    :param last_name: the person's last name; must contain text (templated).
    :param user_email: the person's email address, like ``jane@example.com``; required for ``email``, optional
        otherwise. raia's ``email`` field; not named ``email``, which is Airflow's address for task-failure
        alerts (templated).
    :param phone_number: the person's E.164 phone number, like ``+15551234567``; required for ``sms`` and
        ``voice``, optional for ``email`` (templated).
    :param email_subject: the first email's subject; ``email`` only, required there (templated).
    :param email_introduction: the first email's body; ``email`` only, required there (templated).
    :param include_signature_in_email: append the agent's signature to the email; ``email`` only.
    :param sms_introduction: the first text message; ``sms`` only, required there (templated).
    :param include_signature_in_sms: append the agent's signature to the text message; ``sms`` only.
    :param first_message: the agent's first spoken line; ``voice`` only, required there (templated).
    :param reset_conversation: archive the person's current conversation and start a new one; ``email``
        and ``sms`` only.
    :param user_context: free-form context about the person, e.g. ``Support``, sent as raia's ``context``
        (templated). Not named ``context``, which would read like Airflow's task context.
    :param conversation_context: context for this conversation (templated).
    :param source: where the person came from, e.g. ``crm`` (templated).
    :param fk_id: your own id for the person (templated).
    :param fk_user_id: a second foreign key of yours for the person (templated).
    :param custom_data: a dict of your data, stored in the conversation's ``metadata.customData``; its
        string values are rendered (templated).
    :param conversation_state_id: the conversation's initial state (see the hook's
        ``get_conversation_states``) (templated).
    :param author_id: the platform user starting the conversation (templated).
    :param skip_phone_number_validation: send ``phone_number`` unchecked (here and at raia).
    :param skip_email_validation: send ``user_email`` unchecked (here and at raia).
    :param raia_conn_id: the ``raia`` connection.
    """

    template_fields: Sequence[str] = (
        "first_name",
        "last_name",
        "user_email",
        "phone_number",
        "email_subject",
        "email_introduction",
        "sms_introduction",
        "first_message",
        "user_context",
        "conversation_context",
        "source",
        "fk_id",
        "fk_user_id",
        "custom_data",
        "conversation_state_id",
        "author_id",
    )
    template_fields_renderers: ClassVar[dict[str, str]] = {"custom_data": "json"}
    ui_color = "#e8f1ff"

    def __init__(
        self,
        *,
        channel: StartChannel,
        first_name: str,
        last_name: str,
        user_email: str | None = None,
        phone_number: str | None = None,
        email_subject: str | None = None,
        email_introduction: str | None = None,
        include_signature_in_email: bool | None = None,
        sms_introduction: str | None = None,
        include_signature_in_sms: bool | None = None,
        first_message: str | None = None,
        reset_conversation: bool | None = None,
        user_context: str | None = None,
        conversation_context: str | None = None,
        source: str | None = None,
        fk_id: str | None = None,
        fk_user_id: str | None = None,
        custom_data: dict[str, Any] | None = None,
        conversation_state_id: str | None = None,
        author_id: str | None = None,
        skip_phone_number_validation: bool | None = None,
        skip_email_validation: bool | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.channel = channel
        self.first_name = first_name
        self.last_name = last_name
        self.user_email = user_email
        self.phone_number = phone_number
        self.email_subject = email_subject
        self.email_introduction = email_introduction
        self.include_signature_in_email = include_signature_in_email
        self.sms_introduction = sms_introduction
        self.include_signature_in_sms = include_signature_in_sms
        self.first_message = first_message
        self.reset_conversation = reset_conversation
        self.user_context = user_context
        self.conversation_context = conversation_context
        self.source = source
        self.fk_id = fk_id
        self.fk_user_id = fk_user_id
        self.custom_data = custom_data
        self.conversation_state_id = conversation_state_id
        self.author_id = author_id
        self.skip_phone_number_validation = skip_phone_number_validation
        self.skip_email_validation = skip_email_validation
        self._check_start_arguments()

    def execute(self, context: Context) -> str:
        """Check the rendered arguments, start the conversation and return its id."""
        request = self._start_request()  # raises RaiaInputError before the hook is even built
        self.log.info("Starting a raia %s conversation (connection %r)", self.channel, self.raia_conn_id)
        started = self.hook.send(request)
        self.log.info("raia started %s conversation %s", self.channel, started.conversation_id)
        return started.conversation_id

    # -- validation ---------------------------------------------------------------------------------------

    def _start_error(self, problem: str) -> RaiaInputError:
        return RaiaInputError(f"{type(self).__name__} (task {self.task_id!r}): {problem}")

    def _check_start_arguments(self) -> None:
        """Check what is known before rendering: the channel, the flags, and which arguments are given.

        Runs in ``__init__`` (DAG parse time) and again in ``execute``.
        """
        channel = self.channel
        if not isinstance(channel, str) or channel not in _START_DECLARATIONS:
            raise self._start_error(
                f"argument 'channel' must be one of {_channels_list(list(_START_DECLARATIONS))}; got {channel!r}."
            )
        for flag in _START_FLAGS:
            value = getattr(self, flag)
            if value is not None and not isinstance(value, bool):
                raise self._start_error(
                    f"argument {flag!r} must be True, False or None (it is not templated); "
                    f"got {value!r} ({type(value).__name__})."
                )
        given = {name for name in _START_ARGUMENTS_OF_ANY if getattr(self, name) is not None}
        foreign = sorted(given - _START_ARGUMENTS[channel].keys())
        if foreign:
            problems = [
                f"argument {name!r} does not apply to channel {channel!r}, only to "
                f"{_channels_list([c for c, arguments in _START_ARGUMENTS.items() if name in arguments])}"
                for name in foreign
            ]
            fix = "remove it" if len(foreign) == 1 else "remove them"
            raise self._start_error("; ".join(problems) + f" ({fix}, or choose another channel).")
        missing = [name for name in _START_REQUIRED[channel] if name not in given]
        if missing:
            names = ", ".join(repr(name) for name in missing)
            verb = "is" if len(missing) == 1 else "are"
            needs = ", ".join(_START_REQUIRED[channel])
            hint = (
                " The person's address is user_email: Airflow's own 'email' argument is where task-failure alerts go."
                if "user_email" in missing
                else ""
            )
            raise self._start_error(
                f"argument{'s' if len(missing) > 1 else ''} {names} {verb} required with channel {channel!r}, "
                f"which needs {needs}.{hint}"
            )

    def _start_request(self) -> RaiaRequest[StartedConversation]:
        """Validate the (rendered) arguments with the channel's hook declaration, naming the bad argument."""
        self._check_start_arguments()
        declaration = _START_DECLARATIONS[self.channel]
        arguments = {
            field: value
            for argument, field in _START_ARGUMENTS[self.channel].items()
            if (value := getattr(self, argument)) is not None
        }
        try:
            return declaration.model_validate(arguments)
        except ValidationError as exc:
            # The declaration's own rules and messages; each field named as this operator's argument.
            names = {
                field.alias or name: _START_ARGUMENT_FOR_FIELD.get(name, name)
                for name, field in declaration.model_fields.items()
            }
            raise self._start_error(describe_validation_error(exc, declaration.operation.label, names)) from None
