"""Finding the system to talk to: env file first, then variables, never a silent default."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from albumreg.client.target import Target, TargetError, load_target, parse_env_file

LOCAL = Target(
    bucket="b",
    table_name="t",
    state_machine_arn="arn:aws:states:us-east-1:123456789012:stateMachine:m",
    durable_function="albumreg-durable",
    region="us-east-1",
    endpoints={"AWS_ENDPOINT_URL_S3": "http://127.0.0.1:4566"},
)


def test_env_file_round_trips(tmp_path: Path) -> None:
    path = tmp_path / "local.env"
    path.write_text("# written by albumreg local\n" + LOCAL.as_env_lines())
    target = load_target(path)
    assert target.bucket == "b"
    assert target.endpoints == {"AWS_ENDPOINT_URL_S3": "http://127.0.0.1:4566"}
    assert target.is_local


def test_missing_explicit_env_file_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(TargetError, match="does not exist"):
        load_target(tmp_path / "absent.env")


def test_environment_variables_target_aws(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("ALBUMREG_ENV_FILE", raising=False)
    monkeypatch.setenv("ALBUMREG_BUCKET", "prod-bucket")
    monkeypatch.setenv("TABLE_NAME", "prod-table")
    monkeypatch.setenv("ALBUMREG_STATE_MACHINE_ARN", "arn:sm")
    target = load_target()
    assert (target.bucket, target.is_local, target.source) == ("prod-bucket", False, "environment")


def test_parse_env_file_skips_comments_and_blanks() -> None:
    assert parse_env_file("# c\n\nA=1\nB = two words\nnot a pair\n") == {"A": "1", "B": "two words"}


def test_apply_to_environment_replaces_real_credentials_locally(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("AWS_PROFILE", "production")
    # Every variable it sets is restored afterwards: later tests must not reach this endpoint.
    for name in (
        *LOCAL.endpoints,
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_DEFAULT_REGION",
    ):
        monkeypatch.setenv(name, "before")
    LOCAL.apply_to_environment()
    assert os.environ["AWS_ENDPOINT_URL_S3"] == "http://127.0.0.1:4566"
    assert os.environ["AWS_ACCESS_KEY_ID"] == "local"
    assert "AWS_PROFILE" not in os.environ
