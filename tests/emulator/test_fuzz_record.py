"""The fuzz record fails a session whose fuzz items sent nothing, and skips one that selected none."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest

from tests.emulator.fuzz_record import FuzzRecord


def _session(*names: str) -> Any:
    return SimpleNamespace(items=[SimpleNamespace(name=name) for name in names])


def test_a_selected_operation_without_cases_fails() -> None:
    record = FuzzRecord()
    record.record("test_fuzz", "post", "/external/prompts", 200)
    session = _session("test_fuzz[POST /external/prompts]", "test_fuzz[GET /external/agents/me]", "test_other")

    with pytest.raises(
        AssertionError, match=r"1 fuzzed operations produced no case at all.*GET', '/external/agents/me"
    ):
        record.assert_every_selected_operation_ran(session, {"test_fuzz"})


def test_every_selected_operation_with_cases_passes_and_names_them() -> None:
    record = FuzzRecord()
    record.record("test_fuzz", "POST", "/external/prompts", 400)
    record.record("test_fuzz", "POST", "/external/prompts", 200)

    selected = record.assert_every_selected_operation_ran(_session("test_fuzz[POST /external/prompts]"), {"test_fuzz"})

    assert selected == {("test_fuzz", "POST", "/external/prompts")}
    assert record.statuses("test_fuzz") == {("POST", "/external/prompts"): {200, 400}}


def test_no_selected_fuzz_item_is_a_skip_with_its_reason() -> None:
    with pytest.raises(pytest.skip.Exception, match="none of \\['test_fuzz'\\] was selected"):
        FuzzRecord().assert_every_selected_operation_ran(_session("test_other"), {"test_fuzz"})
