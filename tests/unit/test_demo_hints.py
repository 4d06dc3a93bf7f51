"""What the demo prints for a person: commands that run as printed, keys, closing links."""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

from albumreg.cli.commands.local import describe_restored
from albumreg.cli.demo_session import closing_links, demo_key
from albumreg.cli.invocation import cli_command
from albumreg.cloud.persistence import Interrupted, Restored
from handlers.domain.models import WorkflowStatus
from handlers.domain.tenant import Pattern


def test_cli_command_is_the_venv_path_when_albumreg_is_not_on_path(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr("albumreg.cli.invocation.shutil.which", lambda name: None)
    assert cli_command(".venv/bin/albumreg", tmp_path) == ".venv/bin/albumreg"
    started = tmp_path / ".venv" / "bin" / "albumreg"
    assert cli_command(str(started), tmp_path) == ".venv/bin/albumreg"
    assert cli_command(str(started), Path("/elsewhere")) == str(started)


def test_cli_command_is_the_bare_name_when_path_finds_this_program(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    program = tmp_path / "bin" / "albumreg"
    program.parent.mkdir()
    program.write_text("#!/bin/sh\n")
    monkeypatch.setattr("albumreg.cli.invocation.shutil.which", lambda name: str(program))
    assert cli_command(str(program), tmp_path) == "albumreg"
    # another albumreg on PATH is not the one running: keep the path
    assert cli_command(str(tmp_path / "other" / "albumreg"), tmp_path) == "other/albumreg"


def test_cli_command_started_as_a_module_uses_this_interpreter(tmp_path: Path) -> None:
    command = cli_command("/repo/local/cli.py", tmp_path)
    assert command.endswith(" -m albumreg.cli.main")
    assert Path(command.split()[0]).name == Path(sys.executable).name


def test_demo_key_differs_per_run_and_keeps_the_name_and_type() -> None:
    image = Path("photos/My shelf.jpg")
    first = demo_key(image, datetime(2026, 12, 3, 7, 0, 0, 1, tzinfo=UTC))
    second = demo_key(image, datetime(2026, 12, 3, 7, 0, 0, 2, tzinfo=UTC))
    assert first != second
    assert first.startswith("uploads/My shelf-20261203-070000-")
    assert first.endswith(".jpg")


def test_closing_links_name_the_upload_page_and_the_comparison() -> None:
    lines = closing_links("http://127.0.0.1:8501", "abc123", Path(".albumreg/data"))
    text = "\n".join(lines)
    assert "http://127.0.0.1:8501/albums?upload=abc123" in text
    assert "http://127.0.0.1:8501/comparison" in text
    assert "Ctrl-C" in text
    assert ".albumreg/data" in text
    assert "http" not in "\n".join(closing_links(None, "abc123", None))


def test_describe_restored_counts_and_names_the_interrupted() -> None:
    data = Path("d")
    assert describe_restored(None, data) == []
    assert "empty" in describe_restored(Restored(), data)[0]
    restored = Restored(
        items=20,
        objects=2,
        datapoints=7,
        interrupted=[Interrupted(Pattern.DURABLE, "u1", WorkflowStatus.PENDING_REVIEW)],
    )
    lines = describe_restored(restored, data)
    assert "restored 20 items, 2 photos, 7 metric datapoints" in lines[0]
    assert "1 workflow(s)" in lines[1]
    single = describe_restored(Restored(items=1, objects=1, datapoints=0), data)
    assert "restored 1 item, 1 photo, 0 metric datapoints" in single[0]
    assert "Interrupted" in lines[1]
