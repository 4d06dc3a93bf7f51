"""``albumreg inspect`` against a running local cloud whose vision model fails for good.

The same fault as the bench's extract-failure scenario, injected into the cloud's worker
processes; the command reads both executions back from the emulated orchestrators.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from albumreg.cli.main import main
from albumreg.cloud.local_cloud import CloudOptions, LocalCloud
from handlers.domain.names import Step
from handlers.domain.tenant import Pattern
from tests.failed_upload import cloud_with_a_failed_upload


@pytest.mark.timeout(300)
def test_inspect_shows_both_failed_executions_with_the_error(tmp_path: Path, capsys) -> None:
    # GIVEN a local cloud whose recognizer fails for good, and one upload that failed in both
    with cloud_with_a_failed_upload(tmp_path) as (env_file, upload_id):
        # WHEN a person inspects it, as text and as JSON
        assert main(["inspect", upload_id, "--env-file", str(env_file)]) == 0
        text = capsys.readouterr().out
        assert main(["inspect", upload_id, "--env-file", str(env_file), "--json"]) == 0
        document = json.loads(capsys.readouterr().out)

    # THEN both sides failed at extract, once, with the model's message, and no console link
    assert "== Step Functions: FAILED (RecognitionError:" in text
    assert "== Durable functions: FAILED (StepError:" in text
    sides = {side["pattern"]: side for side in document["sides"]}
    for pattern in Pattern:
        trace = sides[pattern.value]["trace"]
        assert sides[pattern.value]["console"] is None
        extract = next(op for op in trace["operations"] if op["name"] == Step.EXTRACT)
        (attempt,) = extract["attempts"]
        assert attempt["error"] == "RecognitionError"
        assert attempt["cause"] == "the vision model returned nothing usable (scenario fault)"


def test_inspect_of_an_unknown_upload_says_so(tmp_path: Path, capsys) -> None:
    with LocalCloud(CloudOptions(port_base=0, env_file=tmp_path / "local.env")):
        status = main(["inspect", "no-such-upload", "--env-file", str(tmp_path / "local.env")])

    assert status == 2
    assert "no upload no-such-upload" in capsys.readouterr().err
