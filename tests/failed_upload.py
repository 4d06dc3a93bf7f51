"""A local cloud whose vision model fails for good, and one upload that failed in both workflows.

The bench's extract-failure scenario, injected into the cloud's worker processes: what the
execution inspector is tried against, from the CLI (functional) and the dashboard (e2e) alike.
Test helper only.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from albumreg.cloud.lambdas.recognition import RecognizerKnobs
from albumreg.cloud.local_cloud import CloudOptions, LocalCloud
from albumreg.tools.sample_photos import SAMPLE_PHOTO
from albumreg.tools.scenarios import SCENARIOS
from handlers.domain.models import WorkflowStatus
from handlers.domain.tenant import Pattern

FAILURE_TIMEOUT = 150.0
"""Both workflows fail within seconds; a busy two-core machine may take much longer."""


@contextmanager
def cloud_with_a_failed_upload(scratch: Path) -> Iterator[tuple[Path, str]]:
    """The cloud's env file and the upload id, while the cloud runs in this process."""
    broken = next(s for s in SCENARIOS if s.name == "extract-failure")
    env_file = scratch / "local.env"
    options = CloudOptions(
        port_base=0,
        env_file=env_file,
        recognition=RecognizerKnobs(wrap=broken.injector(scratch)),
    )
    with LocalCloud(options) as cloud:
        deps = cloud.dependencies
        deps.client("s3").put_object(
            Bucket=cloud.target.bucket, Key="uploads/broken.jpg", Body=SAMPLE_PHOTO.read_bytes()
        )
        deadline = time.monotonic() + FAILURE_TIMEOUT
        failed: dict[Pattern, str] = {}
        while len(failed) < len(Pattern) and time.monotonic() < deadline:
            for pattern in Pattern:
                for summary in deps.repo.list_uploads(pattern, WorkflowStatus.FAILED, 5):
                    failed[pattern] = summary.upload_id
            time.sleep(0.2)
        assert len(failed) == len(Pattern), "both workflows should have failed"
        assert len(set(failed.values())) == 1, "both workflows of the one upload should have failed"
        yield env_file, failed[Pattern.STEP_FUNCTIONS]
