"""The review command turns SLOT=VALUE options into the same validated decision as the UI."""

from __future__ import annotations

import pytest

from albumreg.cli.commands.review import build_decision
from albumreg.cli.main import build_parser, main


def parse(*argv: str):
    return build_parser().parse_args(["review", *argv])


def test_approve_options_become_corrections() -> None:
    args = parse(
        "approve", "abc", "--year", "2=1970", "--title", "2=Abbey Road", "--artist", "5=Prince"
    )
    decision = build_decision(args)
    assert decision.action == "approve"
    assert [(c.slot, c.year, c.title, c.artist) for c in decision.corrections] == [
        (2, 1970, "Abbey Road", None),
        (5, None, None, "Prince"),
    ]


def test_reject_keeps_comment() -> None:
    decision = build_decision(parse("reject", "abc", "--comment", "blurry photo"))
    assert (decision.action, decision.comment) == ("reject", "blurry photo")


@pytest.mark.parametrize(
    ("option", "message"),
    [
        (["--year", "2:1970"], "expected SLOT=VALUE"),
        (["--year", "x=1970"], "expected SLOT=VALUE"),
        (["--year", "7=1970"], "corrections.0.slot"),
        (["--year", "2=1850"], "year must be between"),
        (["--year", "2=soon"], "corrections.0.year"),
    ],
)
def test_approve_bad_options_refused_with_reason(option: list[str], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        build_decision(parse("approve", "abc", *option))


def test_approve_bad_year_exits_2_before_contacting_anything(capsys, tmp_path) -> None:
    missing = tmp_path / "nothing.env"
    status = main(["review", "--env-file", str(missing), "approve", "abc", "--year", "2=1850"])
    assert status == 2
    assert "year must be between" in capsys.readouterr().err


def test_review_without_local_cloud_says_how_to_start_it(capsys, tmp_path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    for name in (
        "ALBUMREG_BUCKET",
        "TABLE_NAME",
        "ALBUMREG_STATE_MACHINE_ARN",
        "ALBUMREG_ENV_FILE",
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("PATH", str(tmp_path))
    assert main(["review", "list"]) == 2
    assert "albumreg local" in capsys.readouterr().err
