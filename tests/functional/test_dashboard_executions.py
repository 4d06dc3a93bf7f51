"""The Executions page with Streamlit's AppTest, on the dashboard fixture world.

The histories are recorded runs (tests/events): the fixture's failed upload reads as the
extract failure recorded on the local cloud, the completed one as the recorded happy runs.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from streamlit.testing.v1 import AppTest

import albumreg.dashboard.data.executions
from albumreg.dashboard import cached
from albumreg.dashboard.launch import APP
from handlers.domain.names import Step
from handlers.domain.tenant import Pattern
from tests.functional.dashboard_world import HISTORY_ARNS, LDF, SF, World, build_world
from tests.unit.test_import_boundaries import offending

EVENTS = Path(__file__).parents[1] / "events"
TIMEOUT = 30
PAGE = "views/executions.py"

RECORDED = {
    "sf-exec-failed": "history_sf_extract_failure.json",
    HISTORY_ARNS[SF]: "history_sf_happy.json",
    HISTORY_ARNS[LDF]: "history_ldf_happy.json",
}


def install(monkeypatch: pytest.MonkeyPatch, recorded: dict[str, str]) -> list[tuple[Pattern, str]]:
    """Histories come from recorded files (execution id -> file); each read is remembered."""
    asked: list[tuple[Pattern, str]] = []

    def reader(sfn: Any, lambda_client: Any) -> Any:
        def read(pattern: Pattern, execution_id: str) -> list[dict[str, Any]]:
            asked.append((pattern, execution_id))
            name = recorded.get(execution_id)
            return json.loads((EVENTS / name).read_text()) if name else []

        return read

    monkeypatch.setattr(albumreg.dashboard.data.executions, "history_reader", reader)
    return asked


@pytest.fixture
def reads(monkeypatch: pytest.MonkeyPatch) -> list[tuple[Pattern, str]]:
    return install(monkeypatch, RECORDED)


@pytest.fixture
def page(repo, s3, reads) -> Iterator[tuple[AppTest, World]]:
    world = build_world(repo, s3)
    with cached.backend_factory(world.backend):
        at = AppTest.from_file(str(APP), default_timeout=TIMEOUT).run()
        yield at.switch_page(PAGE).run(), world


def test_failed_upload_comes_first_with_its_error_attempts_and_missing_side(page) -> None:
    at, world = page

    assert not at.exception
    assert at.title[0].value == "Executions"
    assert at.selectbox[0].value == world.uploads["failed"]
    texts = [m.value for m in at.markdown]
    assert any("badge[failed]" in text for text in texts)
    assert (
        "**RecognitionError**: the vision model returned nothing usable (scenario fault)" in texts
    )
    # The durable side of this upload never started: said so, not drawn as a failure of it.
    assert any("badge[no execution for this upload]" in text for text in texts)
    table = at.dataframe[0].value
    extract = table[table["operation"] == Step.EXTRACT].iloc[0]
    assert extract["status"] == "failed, caught"
    assert extract["attempts"] == "1"
    assert "RecognitionError" in extract["errors"]
    assert len(at.get("vega_lite_chart")) == 1
    # The fixture's target is a deployed stack: the execution links to its console page.
    (link,) = at.get("link_button")
    assert link.proto.url.endswith("#/v2/executions/details/sf-exec-failed")


def test_completed_upload_from_the_link_shows_both_executions_side_by_side(page, reads) -> None:
    at, world = page

    at.query_params["upload"] = world.uploads["history"]
    at = at.run()

    assert not at.exception
    assert at.selectbox[0].value == world.uploads["history"]
    assert sum("green-badge[succeeded]" in m.value for m in at.markdown) == 2
    assert set(HISTORY_ARNS.items()) <= set(reads)
    assert len(at.dataframe) == 2
    retries = [m.value for m in at.metric if m.label == "Retries"]
    assert retries == ["0", "0"]


def test_retried_extract_shows_its_attempts_retry_delay_and_error(repo, s3, monkeypatch) -> None:
    # GIVEN the completed upload's executions as the throttled runs recorded on the local cloud
    install(
        monkeypatch,
        {
            HISTORY_ARNS[SF]: "history_sf_vision_throttled.json",
            HISTORY_ARNS[LDF]: "history_ldf_vision_throttled.json",
        },
    )
    world = build_world(repo, s3)
    with cached.backend_factory(world.backend):
        at = AppTest.from_file(str(APP), default_timeout=TIMEOUT).run()
        at = at.switch_page(PAGE).run()
        at.query_params["upload"] = world.uploads["history"]
        at = at.run()

    assert not at.exception
    assert [m.value for m in at.metric if m.label == "Retries"] == ["1", "1"]
    for frame in at.dataframe:
        table = frame.value
        extract = table[table["operation"] == Step.EXTRACT].iloc[0]
        assert extract["attempts"] == "2"
        assert extract["retry delays"].startswith("2")
        assert "#1 TransientError: ThrottlingException" in extract["errors"]
    (chart,) = at.get("vega_lite_chart")
    assert '"retry delay"' in chart.proto.spec


def test_page_data_and_chart_module_imports_no_streamlit() -> None:
    assert offending(Path(albumreg.dashboard.data.executions.__file__), ("streamlit",)) == []
