"""What every raia operator shares: the connection argument, a hook built at first use, template errors."""

from __future__ import annotations

from collections.abc import Iterable
from functools import cached_property
from typing import TYPE_CHECKING, Any

from airflow.sdk import BaseOperator

from raia_provider._core.form import DEFAULT_CONN_ID
from raia_provider.exceptions import RaiaInputError
from raia_provider.hooks.raia import RaiaHook

if TYPE_CHECKING:
    import jinja2
    from airflow.sdk import Context


class NamesTemplateErrors:
    """Mixin: a templated argument that cannot be rendered raises :class:`RaiaInputError` naming it.

    Airflow re-raises Jinja's own error (``'x' is undefined``, ``unexpected end of template``, a template file
    not found), which says neither which argument nor which task; the field's name is only in a log line.
    Rendering happens before ``execute``, so nothing has been sent yet.
    """

    def _do_render_template_fields(
        self,
        parent: Any,
        template_fields: Iterable[str],
        context: Context,
        jinja_env: jinja2.Environment,
        seen_oids: set[int],
    ) -> None:
        import jinja2

        render = super()._do_render_template_fields  # type: ignore[misc]
        for name in template_fields:
            try:
                render(parent, (name,), context, jinja_env, seen_oids)
            except jinja2.TemplateError as error:
                task = getattr(self, "task_id", None)
                raise RaiaInputError(
                    f"{type(self).__name__} (task {task!r}): argument {name!r} is a Jinja template that cannot be "
                    f"rendered: {type(error).__name__}: {error}. Fix the template (an undefined variable, an "
                    "unclosed '{{', a template file that does not exist?); nothing was sent."
                ) from error


class RaiaBaseOperator(NamesTemplateErrors, BaseOperator):
    """Base of the raia operators: holds ``raia_conn_id`` and builds the :class:`RaiaHook` lazily.

    Nothing is looked up when the DAG file is parsed; the connection is read when the task runs.

    :param raia_conn_id: the ``raia`` connection to use.
    """

    def __init__(self, *, raia_conn_id: str = DEFAULT_CONN_ID, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.raia_conn_id = raia_conn_id

    @cached_property
    def hook(self) -> RaiaHook:
        """The hook this task talks to raia with (one keep-alive session per task run)."""
        return RaiaHook(self.raia_conn_id)
