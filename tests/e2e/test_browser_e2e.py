"""The ``raia`` connection form, its Test button and an example DAG, driven through Airflow's own UI.

A headless Chromium (Debian's ``/usr/bin/chromium``, driven by Playwright from PyPI; ``playwright install`` is
never needed) opens the real api-server of the session's stack. The tests check what a user sees: the form
Airflow builds from the provider's metadata, the messages of the Test button, a DAG run turning green. They
also take the screenshots the connection docs embed (refreshed in ``docs/_static/screenshots/`` with
``RAIA_UPDATE_SCREENSHOTS=1``).
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import warnings
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from raia_provider.testing import RaiaEmulator
from tests.e2e.required import require
from tests.e2e.stack import ARTIFACTS, REPO, AirflowStack, wait_until

pytestmark = pytest.mark.e2e

#: Debian's Chromium (``scripts/_env.sh`` installs it and may point the tests elsewhere).
CHROMIUM = Path(os.environ.get("RAIA_CHROMIUM") or "/usr/bin/chromium")
require(CHROMIUM.exists(), f"the browser tests need Debian's chromium at {CHROMIUM} (apt-get install chromium)")
require(
    importlib.util.find_spec("playwright") is not None, "the browser tests need playwright (pip install playwright)"
)
from playwright.sync_api import Browser, Locator, Page, Route, ViewportSize, expect, sync_playwright  # noqa: E402

#: The docs embed these screenshots; a run refreshes them only when asked (``RAIA_UPDATE_SCREENSHOTS=1``), so
#: the test suite never changes tracked files. Otherwise they go with the other artifacts.
SCREENSHOTS = (
    REPO / "docs" / "_static" / "screenshots"
    if os.environ.get("RAIA_UPDATE_SCREENSHOTS") == "1"
    else REPO / "test-artifacts" / "e2e" / "screenshots"
)
#: Bound of every wait on the UI, in milliseconds (a first page load fetches ~3 MB of JS from a busy api-server).
UI_TIMEOUT = 30_000
VIEWPORT: ViewportSize = {"width": 1280, "height": 900}
UI_CONN_ID = "raia_ui"
WRONG_KEY_CONN_ID = "raia_ui_wrong_key"
WRONG_KEY = "not-the-agent-key-0000"
DAG_ID = "example_raia_prompt"
AGENT_PATH = "/external/agents/by-api-key"


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """One headless Chromium for the module."""
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=["--no-sandbox"])
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture
def page(browser: Browser, request: pytest.FixtureRequest) -> Iterator[Page]:
    """A fresh browser context and page; on failure its screenshot and HTML go to the e2e artifacts."""
    failed_before = request.session.testsfailed
    context = browser.new_context(viewport=VIEWPORT)
    page = context.new_page()
    page.set_default_timeout(UI_TIMEOUT)
    try:
        yield page
    finally:
        if request.session.testsfailed > failed_before:  # the call phase's report is logged before teardown
            folder = ARTIFACTS / "browser"
            folder.mkdir(parents=True, exist_ok=True)
            name = re.sub(r"\W+", "_", request.node.name)
            page.screenshot(path=folder / f"{name}.png", full_page=True)
            (folder / f"{name}.html").write_text(page.content())
        context.close()


@pytest.fixture
def ui_connections(api: httpx.Client) -> Iterator[None]:
    """Neither connection the UI tests create exists before the test, nor after it."""
    for conn_id in (UI_CONN_ID, WRONG_KEY_CONN_ID):
        api.delete(f"/connections/{conn_id}")
    yield
    for conn_id in (UI_CONN_ID, WRONG_KEY_CONN_ID):
        api.delete(f"/connections/{conn_id}")


def open_ui(page: Page, stack: AirflowStack, api: httpx.Client, path: str = "/") -> None:
    """Open ``path`` of the UI; if a login page shows, log in with the session's API token and open it again."""
    page.goto(stack.url + path)
    logged_in = page.get_by_role("button", name="Admin")
    login_form = page.get_by_label(re.compile("username", re.IGNORECASE))
    expect(logged_in.or_(login_form)).to_be_visible(timeout=UI_TIMEOUT)
    if not logged_in.is_visible():
        token = str(api.headers["Authorization"]).removeprefix("Bearer ")
        page.context.add_cookies([{"name": "_token", "value": token, "url": stack.url}])
        page.goto(stack.url + path)
        expect(logged_in).to_be_visible(timeout=UI_TIMEOUT)


def open_add_connection_form(page: Page, conn_id: str) -> Locator:
    """On the Connections page: press Add Connection, fill the id, pick the ``raia`` type; return the dialog."""
    page.get_by_role("button", name="Add Connection").click()
    dialog = page.get_by_role("dialog")
    expect(dialog.get_by_role("heading", name="Add Connection")).to_be_visible(timeout=UI_TIMEOUT)
    dialog.get_by_label("Connection ID").fill(conn_id)
    # A react-select: typing filters its options and opens the menu; clicking the option (not the combobox,
    # which would need a forced click) picks it.
    dialog.get_by_role("combobox", name="Connection Type").fill("raia")
    page.get_by_role("option", name="raia", exact=True).click()
    # The type's own fields replace the generic ones once the form has re-rendered for it.
    expect(dialog.get_by_label("Agent Secret Key")).to_be_visible(timeout=UI_TIMEOUT)
    return dialog


def choose_region(page: Page, dialog: Locator, region: str) -> None:
    """Open the Extra Fields section and pick ``region`` in the Region dropdown.

    The form's sections are an accordion with one open section: this closes Standard Fields.
    """
    dialog.get_by_role("button", name="Extra Fields", exact=True).click()
    dropdown = dialog.get_by_role("combobox", name="Region")
    expect(dropdown).to_be_visible(timeout=UI_TIMEOUT)
    dropdown.click()
    page.get_by_role("option", name=region, exact=True).click()
    expect(page.get_by_role("option")).to_have_count(0, timeout=UI_TIMEOUT)  # the menu closed on the choice
    expect(dialog.locator("input[name=element_region]")).to_have_value(region)


def add_connection(page: Page, conn_id: str, host: str, key: str, region: str = "us") -> None:
    """Create a ``raia`` connection through the Add Connection form and wait until the list shows it."""
    dialog = open_add_connection_form(page, conn_id)
    dialog.get_by_label("Base URL override (optional)").fill(host)
    dialog.get_by_label("Agent Secret Key").fill(key)
    choose_region(page, dialog, region)
    dialog.get_by_role("button", name="Save").click()
    expect(dialog).to_be_hidden(timeout=UI_TIMEOUT)
    expect(connection_row(page, conn_id)).to_be_visible(timeout=UI_TIMEOUT)


def connection_row(page: Page, conn_id: str) -> Locator:
    """The Connections list's row of ``conn_id`` (its first cell is the id)."""
    return page.get_by_role("row").filter(has=page.get_by_role("cell", name=conn_id, exact=True))


def ui_test_button_sends_port_zero_unaccepted(api: httpx.Client) -> bool:
    """Whether this Airflow refuses the request its own Test button sends for a connection without a port.

    The list's Test button posts ``port: Number(connection.port)``, i.e. ``0`` for a NULL port, and Airflow
    3.3.1/3.3.2 take ``0`` for "another destination" and refuse to reuse the stored (masked) key: 400 "The host
    or port to test differs from the stored connection". Every ``raia`` connection has no port (the form hides
    it, the provider refuses one). Fixed upstream by apache/airflow#73298.
    """
    stored = api.get("/connections/raia_default").json()
    probe = {key: stored[key] for key in ("connection_id", "conn_type", "host", "extra")}
    answer = api.post("/connections/test", json={**probe, "password": "***", "port": 0})
    return answer.status_code == 400 and "differs from the stored connection" in answer.text


def drop_port_zero(route: Route) -> None:
    """Send the Test button's request without its ``port: 0`` (what Airflow with apache/airflow#73298 accepts)."""
    body = route.request.post_data_json
    if isinstance(body, dict) and body.get("port") == 0:
        del body["port"]
    route.continue_(post_data=json.dumps(body))


def test_connection_form_shows_the_raia_fields(page: Page, stack: AirflowStack, api: httpx.Client) -> None:
    open_ui(page, stack, api)
    page.get_by_role("button", name="Admin").click()
    page.get_by_role("menuitem", name="Connections").click()
    expect(page).to_have_url(re.compile(r"/connections$"), timeout=UI_TIMEOUT)

    dialog = open_add_connection_form(page, "raia_default")

    secret = dialog.get_by_label("Agent Secret Key", exact=True)
    expect(secret).to_have_attribute("type", "password")
    expect(secret).to_have_attribute("name", "password")
    base_url = dialog.get_by_label("Base URL override (optional)", exact=True)
    expect(base_url).to_be_visible()
    expect(base_url).to_have_attribute("name", "host")
    expect(base_url).to_have_attribute("placeholder", re.compile("Leave empty to use the region's URL"))
    expect(base_url).to_have_value("")
    for name, label in (("schema", "Schema"), ("login", "Login"), ("port", "Port")):
        expect(dialog.locator(f"[name={name}]")).to_have_count(0)
        expect(dialog.get_by_label(label, exact=True)).to_have_count(0)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    dialog.screenshot(path=SCREENSHOTS / "raia-connection-form.png", animations="disabled")

    # Region: a dropdown of exactly the two regions, "us" preselected.
    dialog.get_by_role("button", name="Extra Fields", exact=True).click()
    region = dialog.get_by_role("combobox", name="Region")
    expect(region).to_be_visible(timeout=UI_TIMEOUT)
    expect(dialog.locator("input[name=element_region]")).to_have_value("us")
    region.click()
    expect(page.get_by_role("option")).to_have_text(["us", "eu"], timeout=UI_TIMEOUT)
    dialog.screenshot(path=SCREENSHOTS / "raia-connection-form-region.png", animations="disabled")


def test_test_button_names_the_agent_or_says_the_key_was_refused(
    page: Page, stack: AirflowStack, api: httpx.Client, raia: RaiaEmulator, ui_connections: None
) -> None:
    if ui_test_button_sends_port_zero_unaccepted(api):
        warnings.warn(
            "this Airflow answers 400 'Bad Request' to its own Test button for connections without a port "
            "(apache/airflow#73298); the test drops the button's port: 0 from the request",
            stacklevel=1,
        )
        page.route("**/api/v2/connections/test", drop_port_zero)
    open_ui(page, stack, api, "/connections")

    add_connection(page, UI_CONN_ID, host=raia.base_url, key=raia.default_key, region="us")
    assert raia.default_key not in page.content(), "the saved key must be masked in the page"
    stored = api.get(f"/connections/{UI_CONN_ID}").json()
    # The form saves its optional rate budget, left empty, as null (its schema allows null); the hook reads a
    # null budget as none, which the Test button below then shows working.
    assert (stored["conn_type"], stored["host"], json.loads(stored["extra"])) == (
        "raia",
        raia.base_url,
        {"region": "us", "requests_per_second": None},
    )
    assert (stored["schema"], stored["login"], stored["port"]) == (None, None, None)

    connection_row(page, UI_CONN_ID).get_by_role("button", name="Test Connection").click()
    success = page.get_by_role("status").filter(has_text="Test Connection Successful")
    expect(success).to_be_visible(timeout=UI_TIMEOUT)
    expect(success).to_contain_text(f"Connected to raia agent '{raia.default_agent.name}'")
    assert raia.default_key not in page.content()
    assert [(r.status, r.agent_id) for r in raia.requests("GET", AGENT_PATH)] == [(200, raia.default_agent.id)]
    # The REST API route the connection docs give for Airflow versions with the port bug: the stored connection.
    tested = api.post("/connections/test", json={"connection_id": UI_CONN_ID, "conn_type": "raia"}).json()
    assert tested["status"] is True, tested
    assert f"Connected to raia agent '{raia.default_agent.name}'" in tested["message"]
    raia.clear_requests()

    add_connection(page, WRONG_KEY_CONN_ID, host=raia.base_url, key=WRONG_KEY, region="us")
    connection_row(page, WRONG_KEY_CONN_ID).get_by_role("button", name="Test Connection").click()
    failure = page.get_by_role("status").filter(has_text="Test Connection Failed")
    expect(failure).to_be_visible(timeout=UI_TIMEOUT)
    expect(failure).to_contain_text("raia refused the Agent Secret Key")
    assert WRONG_KEY not in page.content(), "neither the form nor the failure message may show the key"
    # raia answers an unknown key with 403; refused once, not retried.
    assert [r.status for r in raia.requests("GET", AGENT_PATH)] == [403]


def test_trigger_example_dag_from_the_ui(
    page: Page, stack: AirflowStack, api: httpx.Client, raia: RaiaEmulator
) -> None:
    wait_until(lambda: api.get(f"/dags/{DAG_ID}").status_code == 200, timeout=120, what=f"{DAG_ID} to be parsed")
    api.patch(f"/dags/{DAG_ID}", json={"is_paused": False}).raise_for_status()  # the stack pauses new DAGs
    open_ui(page, stack, api, f"/dags/{DAG_ID}")

    page.get_by_role("button", name="Trigger Dag").click()
    dialog = page.get_by_role("dialog")
    expect(dialog.get_by_role("heading", name=re.compile(f"Trigger Dag.*{DAG_ID}"))).to_be_visible(timeout=UI_TIMEOUT)
    with page.expect_response(
        lambda response: response.request.method == "POST" and response.url.endswith(f"/dags/{DAG_ID}/dagRuns"),
        timeout=UI_TIMEOUT,
    ) as triggered:
        dialog.get_by_role("button", name="Trigger", exact=True).click()
    assert triggered.value.status == 200, triggered.value.text()
    run = triggered.value.json()
    assert run["triggered_by"] == "ui"
    run_id = run["dag_run_id"]

    def finished() -> str | None:
        state = api.get(f"/dags/{DAG_ID}/dagRuns/{run_id}").json()["state"]
        return state if state in ("success", "failed") else None

    assert wait_until(finished, timeout=240, what=f"{DAG_ID} run {run_id} to finish") == "success"

    page.goto(f"{stack.url}/dags/{DAG_ID}/runs/{run_id}")
    header = page.get_by_test_id("header-card")
    expect(header.get_by_role("heading", name=run_id)).to_be_visible(timeout=UI_TIMEOUT)
    expect(header.get_by_test_id("state-badge")).to_have_text("Success", timeout=UI_TIMEOUT)
    for task_id in ("check_connection", "ask_agent", "report"):
        row = page.get_by_role("row").filter(has=page.get_by_role("link", name=task_id, exact=True))
        expect(row).to_contain_text("Success", timeout=UI_TIMEOUT)
    assert [r.status for r in raia.requests("POST", "/external/prompts")] == [200]
    page.screenshot(path=SCREENSHOTS / "raia-dag-run-success.png", animations="disabled")
