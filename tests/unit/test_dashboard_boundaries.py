"""The dashboard's layers: pages draw, data and charts compute, neither does the other's job."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.unit.test_import_boundaries import offending

DASHBOARD = Path(__file__).parents[2] / "albumreg" / "dashboard"
PLAIN = [
    *sorted((DASHBOARD / "data").glob("*.py")),
    *(DASHBOARD / name for name in ("charts.py", "review_form.py", "settings.py")),
]
UI = [DASHBOARD / "app.py", *sorted((DASHBOARD / "views").glob("*.py"))]


def test_every_page_has_its_data_module() -> None:
    pages = {path.stem for path in (DASHBOARD / "views").glob("*.py")} - {"__init__"}
    data = {path.stem for path in (DASHBOARD / "data").glob("*.py")}
    assert pages <= data


@pytest.mark.parametrize("path", PLAIN, ids=lambda p: str(p.relative_to(DASHBOARD)))
def test_data_charts_and_form_logic_import_no_streamlit(path: Path) -> None:
    assert offending(path, ("streamlit",)) == []


@pytest.mark.parametrize("path", UI, ids=lambda p: p.name)
def test_pages_talk_to_no_aws_sdk_and_no_orchestrator(path: Path) -> None:
    banned = ("boto3", "botocore", "handlers.adapters", "handlers.domain.reviews", "moto")
    assert offending(path, banned) == []
