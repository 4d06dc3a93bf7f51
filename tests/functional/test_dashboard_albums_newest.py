"""The Albums page opens the newest upload by itself: a person sees records, not an empty area."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from streamlit.testing.v1 import AppTest

from albumreg.dashboard import cached
from albumreg.dashboard.launch import APP
from handlers.domain.tenant import PATTERNS
from tests.conftest import FixedClock
from tests.fakes import RecordingInbox
from tests.functional.dashboard_world import (
    NOW,
    STORED_METRICS,
    HistoryReader,
    World,
    _completed,
)

TIMEOUT = 30


@pytest.fixture
def one_upload(repo, s3) -> Iterator[tuple[AppTest, str]]:
    """The dashboard over a table holding one completed upload, on the Albums page."""
    upload_id = _completed(
        repo, "only", {p: f"{p.value}-exec-only" for p in STORED_METRICS}, STORED_METRICS
    )
    world = World(repo, s3, FixedClock(NOW), RecordingInbox(), HistoryReader(), {"only": upload_id})
    with cached.backend_factory(world.backend):
        app = AppTest.from_file(str(APP), default_timeout=TIMEOUT).run()
        yield app.switch_page("views/albums.py").run(), upload_id


def test_albums_page_with_one_upload_shows_its_records_without_a_choice(
    one_upload: tuple[AppTest, str],
) -> None:
    at, upload_id = one_upload

    assert not at.exception
    assert at.selectbox[0].value == upload_id
    assert at.query_params["upload"] == upload_id
    assert [s.value for s in at.subheader] == ["only.jpg"]
    assert any("Both orchestrators agree on every slot." in c.value for c in at.caption)
    # the two records side by side: six slots, one row per orchestrator
    records = at.dataframe[-1].value
    assert len(records) == 12
    assert list(records["Orchestrator"][:2]) == [p.label for p in PATTERNS]
    assert records["Title"][0] == records["Title"][1] != "-"
