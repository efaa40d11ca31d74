"""The ``raia`` connection form, declared once.

Airflow 3.2+ reads ``conn-fields`` / ``ui-field-behaviour`` from provider info without importing the hook;
3.1 calls the hook's ``get_connection_form_widgets`` / ``get_ui_field_behaviour``. Both are derived from
the constants below so the two forms cannot drift apart.
"""

from __future__ import annotations

from typing import Any, Final

CONN_TYPE: Final = "raia"
DEFAULT_CONN_ID: Final = "raia_default"
HOOK_NAME: Final = "raia"

US_BASE_URL: Final = "https://api.raia2.com/external"
EU_BASE_URL: Final = "https://api-eu.raia2.com/external"
#: The base URL of each region, as raia publishes them (its OpenAPI servers and its docs' API links).
REGION_BASE_URLS: Final[dict[str, str]] = {"us": US_BASE_URL, "eu": EU_BASE_URL}
DEFAULT_REGION: Final = "us"

#: The Extra key (and form field) of the connection's requests-per-second budget.
RATE_BUDGET_FIELD: Final = "requests_per_second"

#: Custom fields stored in ``Connection.extra`` (``conn-fields`` format of provider info).
CONN_FIELDS: Final[dict[str, dict[str, Any]]] = {
    "region": {
        "label": "Region",
        "description": (
            "Where the agent lives: 'us' (https://api.raia2.com/external) or 'eu' (https://api-eu.raia2.com/external)."
        ),
        "schema": {"type": "string", "enum": list(REGION_BASE_URLS), "default": DEFAULT_REGION},
    },
    RATE_BUDGET_FIELD: {
        "label": "Rate budget (requests/s, optional)",
        "description": (
            "The most requests a second this connection sends to the agent from one triggerer or task: waits "
            "(deferred prompts and replies) and batches on it share the budget, and a 429 pauses them all "
            "at once. Empty: no client-side limit (a 429 still pauses them all)."
        ),
        "schema": {"type": ["number", "null"], "exclusiveMinimum": 0},
    },
}

#: Extra keys read from the connection but not shown in its form: deliberate opt-outs of a safety rule.
EXTRA_ONLY_FIELDS: Final[dict[str, str]] = {
    "allow_insecure_http": (
        "true lets the key travel in clear text to a plain http:// base URL whose host is not loopback"
    ),
}

#: Standard fields: hidden, relabelled, with placeholders (``ui-field-behaviour`` format of provider info).
UI_FIELD_BEHAVIOUR: Final[dict[str, Any]] = {
    "hidden-fields": ["schema", "login", "port"],
    "relabeling": {"password": "Agent Secret Key", "host": "Base URL override (optional)"},
    "placeholders": {
        "host": "Leave empty to use the region's URL; e.g. http://127.0.0.1:8080/external for the emulator",
        "password": "The key of the agent's API Skill in raia Launch Pad",
    },
}


def legacy_ui_field_behaviour() -> dict[str, Any]:
    """Return :data:`UI_FIELD_BEHAVIOUR` in the snake_case shape ``get_ui_field_behaviour`` returns."""
    return {
        "hidden_fields": list(UI_FIELD_BEHAVIOUR["hidden-fields"]),
        "relabeling": dict(UI_FIELD_BEHAVIOUR["relabeling"]),
        "placeholders": dict(UI_FIELD_BEHAVIOUR["placeholders"]),
    }


def legacy_connection_form_widgets() -> dict[str, Any]:
    """Return :data:`CONN_FIELDS` as WTForms widgets, for Airflow 3.1's ``get_connection_form_widgets``.

    Airflow's API server supplies stand-ins for ``wtforms``/``flask_babel``/``flask_appbuilder`` when they
    are not installed, so these imports are resolved only when Airflow asks for the form.
    """
    from flask_appbuilder.fieldwidgets import BS3TextFieldWidget
    from flask_babel import lazy_gettext
    from wtforms import StringField
    from wtforms.validators import any_of

    widgets: dict[str, Any] = {}
    for name, spec in CONN_FIELDS.items():
        schema = spec["schema"]
        validators = [any_of(list(schema["enum"]))] if "enum" in schema else []
        widgets[name] = StringField(
            lazy_gettext(spec["label"]),
            widget=BS3TextFieldWidget(),
            validators=validators,
            description=spec["description"],
            default=schema.get("default"),
        )
    return widgets
