"""The Comparison page opens with the answer: the summary table, on the dashboard fixture world.

Of the fixture's two completed uploads one stored its metrics (``STORED_METRICS``: active
times, no priced cost items); the rows read exactly those and say what they cannot measure.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from streamlit.testing.v1 import AppTest

from albumreg.dashboard import cached
from albumreg.dashboard.launch import APP
from tests.functional.dashboard_world import World, build_world

TIMEOUT = 30


@pytest.fixture
def comparison(repo, s3) -> Iterator[tuple[AppTest, World]]:
    world = build_world(repo, s3)
    with cached.backend_factory(world.backend):
        at = AppTest.from_file(str(APP), default_timeout=TIMEOUT).run()
        yield at.switch_page("views/comparison.py").run(), world


def test_comparison_opens_with_the_summary_table_and_its_verdicts(comparison) -> None:
    at, _ = comparison

    assert not at.exception
    assert at.subheader[0].value == "The answer"
    table = at.dataframe[0].value.set_index("measure")
    latency = table.loc["active latency p50"]
    assert (latency["Step Functions"], latency["Durable functions"]) == ("4.50 s", "3.50 s")
    assert latency["wins, by how much"] == "Durable functions, 1.00 s less (22%)"
    # No execution stored priced cost items, and the fixture records no cold starts.
    assert table.loc["cost per workflow"]["wins, by how much"] == "no verdict"
    assert table.loc["cold starts per workflow (p50)"]["Step Functions"] == "not measured"
    code = table.loc["orchestration code"]
    assert code["Durable functions"] == "measured by albumreg report"
