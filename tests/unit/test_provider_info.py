"""Provider metadata: valid against Airflow's own schemas, discovered by Airflow, form declared both ways."""

from __future__ import annotations

import json
import subprocess
import sys
from importlib import resources
from importlib.metadata import entry_points
from typing import Any

import jsonschema
import pytest

from raia_provider._core import form
from raia_provider.get_provider_info import get_provider_info
from raia_provider.hooks.raia import RaiaHook


def airflow_schema(name: str) -> dict[str, Any]:
    return json.loads(resources.files("airflow").joinpath(name).read_text())  # type: ignore[no-any-return]


def test_provider_info_is_valid_against_airflows_schema() -> None:
    jsonschema.validate(get_provider_info(), airflow_schema("provider_info.schema.json"))


def test_connection_type_is_valid_against_the_provider_yaml_schema() -> None:
    # provider_info.schema.json does not describe conn-fields / ui-field-behaviour; provider.yaml's does.
    conn_schema = airflow_schema("provider.yaml.schema.json")["properties"]["connection-types"]
    jsonschema.validate(get_provider_info()["connection-types"], conn_schema)


def test_entry_point_is_registered() -> None:
    (entry,) = [e for e in entry_points(group="apache_airflow_provider") if e.value.startswith("raia_provider")]
    assert entry.load() is get_provider_info


def test_provider_info_names_importable_modules_and_hook() -> None:
    info = get_provider_info()
    for section in ("hooks", "operators", "sensors", "triggers"):
        for item in info.get(section, []):
            for module in item["python-modules"]:
                __import__(module)
    (conn,) = info["connection-types"]
    module, _, cls = conn["hook-class-name"].rpartition(".")
    assert getattr(__import__(module, fromlist=[cls]), cls) is RaiaHook
    assert (conn["connection-type"], RaiaHook.conn_type, RaiaHook.default_conn_name) == ("raia", "raia", "raia_default")


@pytest.mark.filterwarnings("ignore:ProvidersManager.hooks is deprecated")
def test_providers_manager_sees_the_raia_connection_type() -> None:
    from airflow.providers_manager import ProvidersManager

    manager = ProvidersManager()
    assert "airflow-provider-raia" in manager.providers
    hook_info = manager.hooks["raia"]
    assert hook_info is not None
    assert hook_info.hook_class_name == "raia_provider.hooks.raia.RaiaHook"
    assert hook_info.connection_id_attribute_name == "raia_conn_id"


def airflow_cli_json(*args: str) -> Any:
    done = subprocess.run(
        [sys.executable, "-m", "airflow", *args, "-o", "json"], capture_output=True, text=True, check=True
    )
    # Airflow may log a line before the JSON document; the document is the line that starts with "[".
    return json.loads(next(line for line in done.stdout.splitlines() if line.startswith("[")))


def test_airflow_cli_lists_the_provider_and_connection_type() -> None:
    providers = airflow_cli_json("providers", "list")
    assert any(p["package_name"] == "airflow-provider-raia" for p in providers)
    hooks = airflow_cli_json("providers", "hooks")
    raia = next(h for h in hooks if h["connection_type"] == "raia")
    assert raia["class"] == "raia_provider.hooks.raia.RaiaHook"
    assert raia["conn_id_attribute_name"] == "raia_conn_id"


def legacy_form_as_api_fields() -> dict[str, Any]:
    """Run the hook's 3.1-style widgets through the stand-ins Airflow's API server uses without WTForms."""
    from unittest import mock

    from airflow.api_fastapi.core_api.services.ui.connections import HookMetaService

    stand_ins = {
        "wtforms.StringField": HookMetaService.MockStringField,
        "wtforms.validators.any_of": lambda values: HookMetaService.MockEnum(values),
        "flask_babel.lazy_gettext": lambda text: text,
        "flask_appbuilder.fieldwidgets.BS3TextFieldWidget": HookMetaService.MockAnyWidget,
    }
    modules = {
        name: mock.MagicMock()
        for name in (
            "wtforms",
            "wtforms.validators",
            "flask_babel",
            "flask_appbuilder",
            "flask_appbuilder.fieldwidgets",
        )
    }
    with mock.patch.dict(sys.modules, modules):
        for target, replacement in stand_ins.items():
            module_name, _, attribute = target.rpartition(".")
            setattr(sys.modules[module_name], attribute, replacement)
        widgets = RaiaHook.get_connection_form_widgets()
    return {name: widget.param.dump() for name, widget in widgets.items()}


def declared_form_as_api_fields() -> dict[str, Any]:
    """``conn-fields`` as Airflow 3.2+ serves them to the UI (``ProvidersManager._to_api_format``)."""
    fields = get_provider_info()["connection-types"][0]["conn-fields"]
    return {
        name: {
            "value": spec["schema"].get("default"),
            "schema": {**spec["schema"], "title": spec["label"]},
            "description": spec.get("description"),
        }
        for name, spec in fields.items()
    }


def test_declared_form_is_what_airflow_serves() -> None:
    from airflow.providers_manager import ProvidersManager

    manager = ProvidersManager()
    if not hasattr(manager, "_to_api_format"):
        pytest.skip("conn-fields are read from provider info only from Airflow 3.2 on")
    for name, field in declared_form_as_api_fields().items():
        served = manager._to_api_format(name, get_provider_info()["connection-types"][0]["conn-fields"][name])
        assert {k: served[k] for k in field} == field


def test_legacy_form_matches_conn_fields() -> None:
    declared = declared_form_as_api_fields()
    legacy = legacy_form_as_api_fields()
    assert set(legacy) == set(declared) == {"region", "requests_per_second"}
    for name, field in declared.items():
        assert legacy[name]["schema"]["title"] == field["schema"]["title"]
        assert legacy[name]["description"] == field["description"]
        assert legacy[name]["value"] == field["value"]
    region, legacy_region = declared["region"], legacy["region"]
    assert legacy_region["value"] == region["value"] == "us"
    assert legacy_region["schema"]["title"] == "Region"
    assert legacy_region["schema"]["enum"] == region["schema"]["enum"] == ["us", "eu"]
    # The budget is optional: empty by default in both forms (3.1 shows it as text; the settings parse it).
    assert legacy["requests_per_second"]["value"] is None
    assert declared["requests_per_second"]["schema"]["type"] == ["number", "null"]


def test_legacy_field_behaviour_matches_ui_field_behaviour() -> None:
    declared = get_provider_info()["connection-types"][0]["ui-field-behaviour"]
    legacy = RaiaHook.get_ui_field_behaviour()
    assert legacy == {
        "hidden_fields": declared["hidden-fields"],
        "relabeling": declared["relabeling"],
        "placeholders": declared["placeholders"],
    }
    assert set(legacy["hidden_fields"]) == {"schema", "login", "port"}
    assert legacy["relabeling"]["password"] == "Agent Secret Key"


@pytest.mark.parametrize("region", list(form.REGION_BASE_URLS))
def test_region_enum_matches_settings(region: str) -> None:
    assert region in form.CONN_FIELDS["region"]["schema"]["enum"]
