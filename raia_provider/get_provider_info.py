"""Provider metadata that Airflow reads through the ``apache_airflow_provider`` entry point."""

from __future__ import annotations

from typing import Any

from raia_provider._core import form

_INTEGRATION = "raia"


def get_provider_info() -> dict[str, Any]:
    """Return the provider's metadata in the shape of Airflow's ``provider_info.schema.json``."""
    return {
        "package-name": "airflow-provider-raia",
        "name": "raia",
        "description": "`raia <https://raia.ai/>`__ AI agents: prompts, conversations and knowledge files.",
        "integrations": [
            {
                "integration-name": _INTEGRATION,
                "external-doc-url": "https://api.raia2.com/api/external/docs/",
                "tags": ["ai", "service"],
            }
        ],
        "operators": [
            {
                "integration-name": _INTEGRATION,
                "python-modules": [
                    "raia_provider.operators.prompt",
                    "raia_provider.operators.message",
                    "raia_provider.operators.conversation",
                    "raia_provider.operators.files",
                    "raia_provider.operators.webhook",
                    "raia_provider.operators.batch",
                    "raia_provider.operators.knowledge",
                ],
            }
        ],
        "sensors": [{"integration-name": _INTEGRATION, "python-modules": ["raia_provider.sensors.raia"]}],
        "hooks": [{"integration-name": _INTEGRATION, "python-modules": ["raia_provider.hooks.raia"]}],
        "triggers": [{"integration-name": _INTEGRATION, "python-modules": ["raia_provider.triggers.raia"]}],
        "asset-uris": [
            {
                "schemes": ["raia"],
                "handler": "raia_provider.assets.raia.sanitize_uri",
                "factory": "raia_provider.assets.raia.create_asset",
            }
        ],
        "connection-types": [
            {
                "connection-type": form.CONN_TYPE,
                "hook-class-name": "raia_provider.hooks.raia.RaiaHook",
                "hook-name": "raia",
                "conn-fields": form.CONN_FIELDS,
                "ui-field-behaviour": form.UI_FIELD_BEHAVIOUR,
            }
        ],
    }
