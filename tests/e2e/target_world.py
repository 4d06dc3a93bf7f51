"""A running system seen from outside, whichever it is: the local cloud or a deployed stack.

The end-to-end scenarios (``target_scenarios``) are written once against this class. It puts
objects into the upload bucket as S3 clients do, acts on reviews with the ``albumreg`` CLI as a
person would, reads the outcome from the table, and deletes what it uploaded when done.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator, Mapping
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import Any, TypeVar

import boto3
import urllib3

from albumreg.client.target import Target
from handlers.adapters.dynamodb import DynamoDbAlbumRepository
from handlers.domain.events import upload_id_for
from handlers.domain.records import UploadRecord
from handlers.domain.tenant import Pattern

ROOT = Path(__file__).parents[2]
FINAL = ("COMPLETED", "REJECTED", "FAILED")
T = TypeVar("T")


class TargetWorld:
    """One target, its clients, and what the scenarios uploaded to it.

    Args:
        target: the system (``albumreg.client.target.Target``).
        cli_env: the environment the ``albumreg`` CLI runs with to reach it.
        review_timeout_seconds: how long its workflows wait for a person.
        pricing_admin_url: the local pricing API's admin URL, None on AWS (no outage knob).
        settle_seconds: how long a workflow may take from upload to its review or its end.
    """

    def __init__(
        self,
        target: Target,
        cli_env: Mapping[str, str],
        review_timeout_seconds: int,
        pricing_admin_url: str | None = None,
        settle_seconds: float = 90.0,
    ) -> None:
        self.target = target
        self.cli_env = dict(cli_env)
        self.review_timeout_seconds = review_timeout_seconds
        self.pricing_admin_url = pricing_admin_url
        self.settle_seconds = settle_seconds
        self.uploaded: list[str] = []
        if target.is_local:
            session = boto3.session.Session(
                aws_access_key_id="local", aws_secret_access_key="local", region_name="us-east-1"
            )
            self.s3 = session.client("s3", endpoint_url=target.endpoints["AWS_ENDPOINT_URL_S3"])
            self.events = session.client(
                "events", endpoint_url=target.endpoints["AWS_ENDPOINT_URL_EVENTBRIDGE"]
            )
            dynamodb = session.client(
                "dynamodb", endpoint_url=target.endpoints["AWS_ENDPOINT_URL_DYNAMODB"]
            )
        else:
            session = boto3.session.Session(region_name=target.region)
            self.s3 = session.client("s3")
            self.events = session.client("events")
            dynamodb = session.client("dynamodb")
        self.repo = DynamoDbAlbumRepository(dynamodb, target.table_name)

    def key(self, name: str) -> str:
        """A key under the upload prefix no earlier run used (uploads are never deduplicated)."""
        stem, dot, suffix = name.rpartition(".")
        return f"uploads/{stem}-{uuid.uuid4().hex[:8]}{dot}{suffix}"

    def put(self, key: str, body: bytes) -> tuple[str, dict[str, Any]]:
        """Put an object as any S3 client would; returns its upload id and the S3 answer."""
        response = self.s3.put_object(Bucket=self.target.bucket, Key=key, Body=body)
        self.uploaded.append(key)
        identity = response.get("VersionId") or response["ETag"].strip('"')
        return upload_id_for(self.target.bucket, key, identity), dict(response)

    def cli(self, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
        """Run ``albumreg ARGS`` against the target, as a person's shell would."""
        return subprocess.run(
            [sys.executable, "-m", "albumreg.cli.main", *args],
            cwd=ROOT,
            env=self.cli_env,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )

    def wait_for(self, predicate: Callable[[], T | None], timeout: float, what: str) -> T:
        """Poll ``predicate`` until it returns something, or fail naming ``what``."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            value = predicate()
            if value:
                return value
            time.sleep(0.5)
        raise AssertionError(f"{what} not reached within {timeout:.0f} s")

    def records(self, upload_id: str) -> dict[Pattern, UploadRecord | None]:
        """Both patterns' records of one upload (None where nothing was written yet)."""
        return {pattern: self.repo.get_upload(pattern, upload_id) for pattern in Pattern}

    def wait_reviews(self, upload_id: str) -> None:
        """Until both patterns wait for a person on this upload."""
        self.wait_for(
            lambda: all(self.repo.get_review(p, upload_id) for p in Pattern),
            self.settle_seconds,
            f"both reviews of {upload_id} open",
        )

    def wait_final(self, upload_id: str, extra: float = 0.0) -> dict[Pattern, UploadRecord]:
        """Until both patterns have a final status for this upload."""

        def final() -> dict[Pattern, UploadRecord] | None:
            found = self.records(upload_id)
            done = {p: r for p, r in found.items() if r and r.summary.status.value in FINAL}
            return done if len(done) == len(Pattern) else None

        return self.wait_for(
            final, self.settle_seconds + extra, f"both workflows of {upload_id} final"
        )

    def pricing_outage(self) -> AbstractContextManager[None]:
        """Every pricing API request fails for the duration (the local API's admin knobs)."""
        if self.pricing_admin_url is None:
            raise NotImplementedError("a deployed stack's pricing API cannot be switched off")
        return _outage(self.pricing_admin_url)

    def cleanup(self) -> None:
        """Delete every object the scenarios uploaded (results stay in the table)."""
        for key in self.uploaded:
            self.s3.delete_object(Bucket=self.target.bucket, Key=key)
        self.uploaded.clear()


@contextmanager
def _outage(admin_url: str) -> Iterator[None]:
    http = urllib3.PoolManager(timeout=5.0)
    before = http.request("GET", admin_url).json()
    # 429 with a Retry-After past the client's ceiling reads as an outage at once, so the
    # orchestrators' own retries run out in seconds rather than waiting out backoff budgets.
    outage = {"rate_limit": 1.0, "retry_after": 3600}
    http.request("POST", admin_url, body=json.dumps(outage).encode())
    try:
        yield
    finally:
        http.request("POST", admin_url, body=json.dumps(before).encode())


def cli_environment(extra: Mapping[str, str]) -> dict[str, str]:
    """This process's environment without the local cloud's variables, plus ``extra``."""
    keep = {k: v for k, v in os.environ.items() if not k.startswith("AWS_ENDPOINT_URL")}
    return {**keep, "PYTHONUNBUFFERED": "1", **extra}
