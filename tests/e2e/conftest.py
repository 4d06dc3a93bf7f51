"""End-to-end fixtures: the real ``albumreg`` console script in its own process, on 127.0.0.1."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import boto3
import pytest

from albumreg.client.target import Target, load_target
from handlers.adapters.dynamodb import DynamoDbAlbumRepository
from handlers.domain.records import UploadRecord
from handlers.domain.tenant import Pattern

ALBUMREG = [sys.executable, "-m", "albumreg.cli.main"]
ROOT = Path(__file__).parents[2]
START_TIMEOUT = 60.0


def cli_env(env_file: Path) -> dict[str, str]:
    """The environment a person's shell would have: no AWS credentials, the env file named.

    A local cloud started with it keeps its data beside the env file, never in the checkout.
    """
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env["ALBUMREG_ENV_FILE"] = str(env_file)
    env["ALBUMREG_DATA_DIR"] = str(env_file.with_suffix(".data"))
    env["PYTHONUNBUFFERED"] = "1"
    return env


def run_cli(env_file: Path, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*ALBUMREG, *args],
        cwd=ROOT,
        env=cli_env(env_file),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


class RunningCloud:
    """A started ``albumreg local`` and the clients to look into it."""

    def __init__(self, process: subprocess.Popen[str], env_file: Path) -> None:
        self.process = process
        self.env_file = env_file
        self.target: Target = load_target(env_file)
        session = boto3.session.Session(
            aws_access_key_id="local", aws_secret_access_key="local", region_name="us-east-1"
        )
        self.session = session
        endpoint = self.target.endpoints["AWS_ENDPOINT_URL_S3"]
        self.s3 = session.client("s3", endpoint_url=endpoint)
        self.sfn = session.client("stepfunctions", endpoint_url=endpoint)
        self.lambda_client = session.client(
            "lambda", endpoint_url=self.target.endpoints["AWS_ENDPOINT_URL_LAMBDA"]
        )
        self.repo = DynamoDbAlbumRepository(
            session.client("dynamodb", endpoint_url=endpoint), self.target.table_name
        )

    def wait_for(self, predicate, timeout: float = 60.0, what: str = "condition"):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            value = predicate()
            if value:
                return value
            assert self.process.poll() is None, "albumreg local exited early"
            time.sleep(0.2)
        raise AssertionError(f"{what} not reached within {timeout}s")

    def stop(self, timeout: float = 30.0) -> str:
        """Ctrl-C, as a person stops it; returns everything it printed."""
        self.process.send_signal(signal.SIGINT)
        output, _ = self.process.communicate(timeout=timeout)
        assert self.process.returncode == 0, output
        return output

    def records(self, upload_id: str) -> dict[Pattern, UploadRecord | None]:
        return {pattern: self.repo.get_upload(pattern, upload_id) for pattern in Pattern}

    def wait_final(self, upload_id: str, timeout: float = 60.0) -> dict[Pattern, UploadRecord]:
        def final() -> dict[Pattern, UploadRecord] | None:
            records = self.records(upload_id)
            done = all(
                r is not None and r.summary.status.value in ("COMPLETED", "REJECTED", "FAILED")
                for r in records.values()
            )
            return records if done else None  # type: ignore[return-value]

        return self.wait_for(final, timeout, f"both workflows of {upload_id} final")


@pytest.fixture
def start_cloud(tmp_path: Path) -> Iterator[Callable[..., RunningCloud]]:
    """Start ``albumreg local`` with the given review timeout; stopped with Ctrl-C after."""
    processes: list[subprocess.Popen[str]] = []

    def start(review_timeout: int = 120, data_dir: Path | None = None) -> RunningCloud:
        env_file = tmp_path / f"local-{len(processes)}.env"
        data = ["--data-dir", str(data_dir)] if data_dir else []
        process = subprocess.Popen(
            [
                *ALBUMREG,
                "local",
                "--port-base",
                "0",
                "--review-timeout",
                str(review_timeout),
                "--env-file",
                str(env_file),
                *data,
            ],
            cwd=ROOT,
            env=cli_env(env_file),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        processes.append(process)
        deadline = time.monotonic() + START_TIMEOUT
        while not env_file.exists():
            if process.poll() is not None:
                raise AssertionError(
                    f"albumreg local failed:\n{process.stdout.read() if process.stdout else ''}"
                )
            assert time.monotonic() < deadline, "albumreg local did not start in time"
            time.sleep(0.1)
        return RunningCloud(process, env_file)

    yield start
    for process in processes:
        if process.poll() is None:
            process.send_signal(signal.SIGINT)
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
