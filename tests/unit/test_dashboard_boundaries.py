"""The dashboard's layers: pages draw, data and charts compute, neither does the other's job."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.unit.test_import_boundaries import offending

DASHBOARD = Path(__file__).parents[2] / "albumreg" / "dashboard"
PLAIN = [DASHBOARD / name for name in ("data.py", "charts.py", "review_form.py")]
UI = [DASHBOARD / "app.py", *sorted((DASHBOARD / "views").glob("*.py"))]


@pytest.mark.parametrize("path", PLAIN, ids=lambda p: p.name)
def test_data_charts_and_form_logic_import_no_streamlit(path: Path) -> None:
    assert offending(path, ("streamlit",)) == []


@pytest.mark.parametrize("path", UI, ids=lambda p: p.name)
def test_pages_talk_to_no_aws_sdk_and_no_orchestrator(path: Path) -> None:
    banned = ("boto3", "botocore", "handlers.adapters", "handlers.domain.reviews", "moto")
    assert offending(path, banned) == []
