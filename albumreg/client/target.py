"""Where the CLI and the dashboard point: the local cloud, or a deployed stack.

Found in this order: the local cloud's env file, environment variables, a deployed stack's
outputs (``pulumi stack output --json``). The local cloud writes ``AWS_ENDPOINT_URL_<SERVICE>``
lines and resource names to one file; on AWS the same names come from the stack, and no
endpoint variables are set.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import urllib.error
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from handlers.config import Settings

DEFAULT_ENV_FILE = Path(".albumreg") / "local.env"
ENV_FILE_VARIABLE = "ALBUMREG_ENV_FILE"

# Stack output name -> the variable the local cloud writes for the same thing.
STACK_OUTPUTS = {
    "bucketName": "ALBUMREG_BUCKET",
    "tableName": "TABLE_NAME",
    "stateMachineArn": "ALBUMREG_STATE_MACHINE_ARN",
    "durableFunctionArn": "ALBUMREG_DURABLE_FUNCTION",
    "region": "AWS_DEFAULT_REGION",
    "dashboardUrl": "ALBUMREG_CLOUDWATCH_DASHBOARD_URL",
    "reviewerPolicyArn": "ALBUMREG_REVIEWER_POLICY_ARN",
}


class TargetError(RuntimeError):
    """No local cloud and no deployed stack could be found; the message says what to do."""


@dataclass(frozen=True)
class Target:
    """A running system: names of its resources, and endpoints when it is the local cloud."""

    bucket: str
    table_name: str
    state_machine_arn: str
    durable_function: str
    region: str
    endpoints: Mapping[str, str] = field(default_factory=dict)
    source: str = "environment"

    @property
    def is_local(self) -> bool:
        """True for the local cloud (it sets endpoints), False for AWS."""
        return bool(self.endpoints)

    def settings(self) -> Settings:
        """Handler settings for code that runs against this target (CLI, dashboard)."""
        return Settings(table_name=self.table_name, metrics_mode="off")

    def apply_to_environment(self) -> None:
        """Export endpoints and region so every boto3 client made afterwards uses them."""
        os.environ.update(self.endpoints)
        os.environ.setdefault("AWS_DEFAULT_REGION", self.region)
        if self.is_local:
            # The local cloud accepts any credentials; never let a developer's real ones travel.
            os.environ["AWS_ACCESS_KEY_ID"] = "local"
            os.environ["AWS_SECRET_ACCESS_KEY"] = "local"  # noqa: S105 - not a secret
            os.environ.pop("AWS_SESSION_TOKEN", None)
            os.environ.pop("AWS_PROFILE", None)

    def as_env_lines(self) -> str:
        """The env file the local cloud writes: ``NAME=value`` lines."""
        values = {
            "ALBUMREG_BUCKET": self.bucket,
            "TABLE_NAME": self.table_name,
            "ALBUMREG_STATE_MACHINE_ARN": self.state_machine_arn,
            "ALBUMREG_DURABLE_FUNCTION": self.durable_function,
            "AWS_DEFAULT_REGION": self.region,
            **self.endpoints,
        }
        return "".join(f"{name}={value}\n" for name, value in values.items())


def parse_env_file(text: str) -> dict[str, str]:
    """``NAME=value`` lines; blank lines and ``#`` comments are skipped."""
    values: dict[str, str] = {}
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        name, _, value = line.partition("=")
        values[name.strip()] = value.strip()
    return values


def _from_values(values: Mapping[str, str], source: str) -> Target | None:
    required = ("ALBUMREG_BUCKET", "TABLE_NAME", "ALBUMREG_STATE_MACHINE_ARN")
    if not all(values.get(name) for name in required):
        return None
    return Target(
        bucket=values["ALBUMREG_BUCKET"],
        table_name=values["TABLE_NAME"],
        state_machine_arn=values["ALBUMREG_STATE_MACHINE_ARN"],
        durable_function=values.get("ALBUMREG_DURABLE_FUNCTION", ""),
        region=values.get("AWS_DEFAULT_REGION", "us-east-1"),
        endpoints={k: v for k, v in values.items() if k.startswith("AWS_ENDPOINT_URL")},
        source=source,
    )


def _from_pulumi() -> Target | None:
    pulumi = shutil.which("pulumi")
    if pulumi is None:
        return None
    try:
        completed = subprocess.run(  # noqa: S603 - fixed arguments, no shell
            [pulumi, "stack", "output", "--json"],
            capture_output=True,
            text=True,
            timeout=60,
            check=True,
        )
        outputs = json.loads(completed.stdout)
    except (subprocess.SubprocessError, json.JSONDecodeError):
        return None
    values = {name: str(outputs[key]) for key, name in STACK_OUTPUTS.items() if key in outputs}
    return _from_values(values, "pulumi stack output")


def load_target(env_file: Path | None = None) -> Target:
    """Find the system to talk to.

    Order: ``env_file``; ``$ALBUMREG_ENV_FILE``; ``.albumreg/local.env`` in the working
    directory; ``ALBUMREG_*`` environment variables; the current Pulumi stack's outputs.

    Raises:
        TargetError: nothing was found, with the commands that would fix it.
    """
    explicit = env_file or (
        Path(os.environ[ENV_FILE_VARIABLE]) if ENV_FILE_VARIABLE in os.environ else None
    )
    candidates = [explicit] if explicit else [DEFAULT_ENV_FILE]
    for path in candidates:
        if path.is_file():
            target = _from_values(parse_env_file(path.read_text()), str(path))
            if target is not None:
                return target
        elif explicit is not None:
            raise TargetError(
                f"env file {path} does not exist: start the local cloud with `albumreg local` "
                f"(it writes {DEFAULT_ENV_FILE}), or pass the file it wrote"
            )
    target = _from_values(os.environ, "environment") or _from_pulumi()
    if target is None:
        raise TargetError(
            "no running system found: start the local cloud with `albumreg local` (it writes "
            f"{DEFAULT_ENV_FILE}), or deploy with `pulumi up` and run this from the project "
            "directory"
        )
    return target


def check_reachable(target: Target, timeout: float = 2.0) -> None:
    """Fail fast with a clear message when the local cloud is not running any more."""
    url = target.endpoints.get("AWS_ENDPOINT_URL_S3")
    if not url:
        return
    try:
        with urllib.request.urlopen(f"{url}/moto-api/", timeout=timeout):  # noqa: S310 - loopback
            return
    except (urllib.error.URLError, OSError) as exc:
        raise TargetError(
            f"the local cloud at {url} is not answering ({exc}); start it with `albumreg local`"
        ) from exc
