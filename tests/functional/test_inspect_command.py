"""``albumreg inspect`` against a running local cloud whose vision model fails for good.

The same fault as the bench's extract-failure scenario, injected into the cloud's worker
processes; the command reads both executions back from the emulated orchestrators.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from albumreg.cli.main import main
from albumreg.cloud.lambdas.recognition import RecognizerKnobs
from albumreg.cloud.local_cloud import CloudOptions, LocalCloud
from albumreg.tools.sample_photos import SAMPLE_PHOTO
from albumreg.tools.scenarios import select
from handlers.domain.models import WorkflowStatus
from handlers.domain.names import Step
from handlers.domain.tenant import Pattern

WAIT_SECONDS = 150
"""Generous: on a busy two-core machine a cold worker loads the handlers slowly."""


@pytest.mark.timeout(300)
def test_inspect_shows_both_failed_executions_with_the_error(tmp_path: Path, capsys) -> None:
    # GIVEN a local cloud whose recognizer fails for good, and one upload
    (_, broken) = select("extract-failure")
    env_file = tmp_path / "local.env"
    options = CloudOptions(
        port_base=0,
        env_file=env_file,
        recognition=RecognizerKnobs(wrap=broken.injector(tmp_path)),
    )
    with LocalCloud(options) as cloud:
        deps = cloud.dependencies
        deps.client("s3").put_object(
            Bucket=cloud.target.bucket, Key="uploads/broken.jpg", Body=SAMPLE_PHOTO.read_bytes()
        )
        deadline = time.monotonic() + WAIT_SECONDS
        failed: set[str] = set()
        while time.monotonic() < deadline:
            found = [deps.repo.list_uploads(p, WorkflowStatus.FAILED, 5) for p in Pattern]
            if all(found):
                failed = {summary.upload_id for listing in found for summary in listing}
                break
            time.sleep(0.2)
        assert len(failed) == 1, "both workflows of the upload should have failed"
        (upload_id,) = failed

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
