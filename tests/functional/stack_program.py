"""Runs the real ``__main__.py`` on Pulumi's mocks and records every resource and output.

Used by ``test_stack*.py`` through a subprocess per stack config: Pulumi's runtime keeps
process-wide state (the root stack resource and its exports, the config context, pending
outputs), so a second program in the same process would see the first one's. A fresh
interpreter per run gives each config a clean runtime at the cost of ~2 s of imports.

Nothing is downloaded: the Lambda artifact is built from ``handlers/`` and a fake
dependency directory made from the distributions already installed in this virtualenv.
"""

from __future__ import annotations

import json
import runpy
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

import pulumi
import yaml  # type: ignore[import-untyped]  # PyYAML (via moto[server]) ships no types
from packaging.requirements import Requirement
from pulumi.runtime import mocks as pulumi_mocks

ROOT = Path(__file__).resolve().parents[2]
PROJECT = "albumreg"
ACCOUNT_ID = "123456789012"
FAKE_TOKEN = "fake-pricing-token-0123456789"
"""Stands in for the real token, which a stack file holds only encrypted."""


class ConfigDeclarationError(ValueError):
    """A stack config the Pulumi CLI itself would refuse (type, missing value, plain secret)."""


@dataclass(frozen=True)
class ProgramRun:
    """What one run of the program produced."""

    resources: list[dict[str, Any]]
    outputs: dict[str, Any]


def project_declarations(root: Path = ROOT) -> dict[str, dict[str, Any]]:
    """The ``config:`` block of ``Pulumi.yaml``, keyed by the full key (``albumreg:x``)."""
    project = yaml.safe_load((root / "Pulumi.yaml").read_text())
    declarations: dict[str, dict[str, Any]] = {}
    for key, declaration in (project.get("config") or {}).items():
        full = key if ":" in key else f"{project['name']}:{key}"
        declarations[full] = declaration
    return declarations


def effective_config(
    stack_file: Path,
    secrets: Mapping[str, str],
    overrides: Mapping[str, str] | None = None,
    root: Path = ROOT,
) -> tuple[dict[str, str], list[str]]:
    """What the Pulumi CLI hands the program for a stack: its values over the declared defaults.

    Args:
        stack_file: a ``Pulumi.<stack>.yaml``.
        secrets: values of secret keys (in a real stack they are encrypted in the file).
        overrides: extra plain values, as ``pulumi config set`` would add.
        root: the project directory.

    Raises:
        ConfigDeclarationError: a value has the wrong type, a required key has no value, or a
            secret key is stored in plain text.
    """
    declarations = project_declarations(root)
    stack = yaml.safe_load(stack_file.read_text()).get("config") or {}
    values: dict[str, Any] = {**stack, **(overrides or {})}
    config: dict[str, str] = {}
    secret_keys: list[str] = []
    for key, declaration in declarations.items():
        if declaration.get("secret"):
            if key in stack and not isinstance(stack[key], dict):
                raise ConfigDeclarationError(f"{key} is secret but stored in plain text")
            if key not in secrets:
                raise ConfigDeclarationError(f"{key} is secret and has no value")
            config[key] = secrets[key]
            secret_keys.append(key)
            continue
        if key in values:
            value = values[key]
        elif "default" in declaration:
            value = declaration["default"]
        else:
            raise ConfigDeclarationError(f"{key} has no value and no default")
        config[key] = _typed(key, declaration.get("type", "string"), value)
    for key, value in values.items():
        if key not in declarations:
            if key.startswith(f"{PROJECT}:"):
                raise ConfigDeclarationError(f"{key} is not declared in Pulumi.yaml")
            config[key] = str(value)
    return config, secret_keys


def _typed(key: str, kind: str, value: Any) -> str:
    """The string Pulumi passes to the program, after the CLI's own type check."""
    if kind == "boolean":
        if isinstance(value, bool):
            return "true" if value else "false"
        if value in {"true", "false"}:
            return str(value)
    elif kind == "integer":
        if isinstance(value, int) and not isinstance(value, bool):
            return str(value)
        if isinstance(value, str) and value.lstrip("-").isdigit():
            return value
    elif kind == "string" and isinstance(value, str):
        return value
    raise ConfigDeclarationError(f"{key}={value!r} is not a valid {kind}")


def fake_install(plan: Any, target: Path) -> None:
    """Stand-in for pip: the requirements' closure as this virtualenv has it, files emptied.

    Each distribution gets its ``METADATA`` (name and version, which the build checks
    against the pins) and empty top-level packages (which the import check looks for).
    """
    for dist in _closure(plan.requirements):
        name, version = dist.metadata["Name"], dist.version
        info = target / f"{name.replace('-', '_')}-{version}.dist-info"
        info.mkdir(parents=True)
        (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n")
        for top in _top_levels(dist):
            (target / top).mkdir(exist_ok=True)
            (target / top / "__init__.py").write_text("")


def _closure(requirements: tuple[str, ...]) -> list[metadata.Distribution]:
    found: dict[str, metadata.Distribution] = {}
    pending = [Requirement(item).name for item in requirements]
    while pending:
        name = pending.pop()
        key = name.lower().replace("_", "-")
        if key in found:
            continue
        dist = metadata.distribution(name)
        found[key] = dist
        for raw in dist.requires or []:
            requirement = Requirement(raw)
            if requirement.marker is None or requirement.marker.evaluate({"extra": ""}):
                pending.append(requirement.name)
    return list(found.values())


def _top_levels(dist: metadata.Distribution) -> set[str]:
    text = dist.read_text("top_level.txt")
    if text:
        return {line.strip() for line in text.splitlines() if line.strip()}
    return {
        Path(str(file)).parts[0].removesuffix(".py")
        for file in dist.files or []
        if not str(file).startswith(("..", "__pycache__"))
        and ".dist-info" not in str(file)
        and (str(file).endswith(".py") or "/" in str(file))
    }


def run_program(
    config: Mapping[str, str], secret_keys: list[str], build_dir: Path, stack: str = "dev"
) -> ProgramRun:
    """Run ``__main__.py`` once on mocks in this process (call it once per process)."""
    from stack import packaging

    packaging.install_dependencies = fake_install
    packaging.DEFAULT_BUILD_DIR = build_dir

    class Monitor(pulumi_mocks.MockMonitor):
        """Also remembers each resource's parent, dependencies and custom timeouts.

        Dependencies are what Pulumi orders operations by: the URNs the resource's inputs
        came from (outputs of other resources) plus its ``depends_on``.
        """

        def __init__(self, mocks: pulumi_mocks.Mocks) -> None:
            super().__init__(mocks)
            self.parents: dict[str, str] = {}
            self.dependencies: dict[str, list[str]] = {}
            self.delete_timeouts: dict[str, str] = {}

        def RegisterResource(self, request: Any) -> Any:  # noqa: N802 - gRPC method name
            response = super().RegisterResource(request)
            self.parents[response.urn] = request.parent
            urns = set(request.dependencies)
            for property_urns in request.propertyDependencies.values():
                urns.update(property_urns.urns)
            self.dependencies[response.urn] = sorted(urns)
            self.delete_timeouts[response.urn] = request.customTimeouts.delete
            return response

    region = config.get("aws:region", "us-east-1")
    monitor = Monitor(AwsMocks(region))
    pulumi.runtime.set_all_config(dict(config), secret_keys)
    pulumi_mocks.set_mocks(monitor.mocks, project=PROJECT, stack=stack, monitor=monitor)
    outputs: dict[str, Any] = {}

    @pulumi.runtime.test  # type: ignore[untyped-decorator]
    def program() -> pulumi.Output[Any]:
        runpy.run_path(str(ROOT / "__main__.py"), run_name="__main__")
        root = pulumi.runtime.get_root_resource()
        exported = dict(getattr(root, "outputs", {}))
        return pulumi.Output.all(**exported).apply(outputs.update)

    program()
    resources = [
        {
            "urn": urn,
            "type": urn.split("::")[2].split("$")[-1],
            "name": urn.split("::")[3],
            "parent": monitor.parents.get(urn, ""),
            "dependencies": monitor.dependencies.get(urn, []),
            "delete_timeout": monitor.delete_timeouts.get(urn, ""),
            "state": registration.state,
        }
        for urn, registration in monitor.resources.items()
    ]
    return ProgramRun(resources=resources, outputs=outputs)


class AwsMocks(pulumi_mocks.Mocks):
    """Answers resource registrations like AWS would name things; provider calls likewise."""

    def __init__(self, region: str) -> None:
        self.region = region

    def new_resource(self, args: pulumi_mocks.MockResourceArgs) -> tuple[str, dict[str, Any]]:
        name = str(args.inputs.get("name") or f"{args.name}-mock")
        arn = self._arn(args.typ, name, args.inputs)
        state = {"name": name, "arn": arn, **args.inputs}
        extra: dict[str, Any] = {}
        identifier = name
        match args.typ:
            case "aws:s3/bucket:Bucket":
                extra = {"bucket": name, "arn": f"arn:aws:s3:::{name}"}
            case "aws:lambda/function:Function":
                extra = {"version": "1", "qualifiedArn": f"{arn}:1"}
            case "aws:sqs/queue:Queue":
                extra = {"url": f"https://sqs.{self.region}.amazonaws.com/{ACCOUNT_ID}/{name}"}
                identifier = extra["url"]
            case "aws:secretsmanager/secret:Secret":
                identifier = arn
            case "aws:cloudwatch/dashboard:Dashboard":
                extra = {"dashboardName": args.inputs.get("dashboardName")}
        return identifier, {**state, **extra}

    def call(self, args: pulumi_mocks.MockCallArgs) -> tuple[dict[str, Any], list[tuple[str, str]]]:
        if args.token == "aws:index/getCallerIdentity:getCallerIdentity":
            identity = {
                "accountId": ACCOUNT_ID,
                "arn": f"arn:aws:iam::{ACCOUNT_ID}:user/deployer",
                "userId": "AIDAEXAMPLE",
                "id": ACCOUNT_ID,
            }
            return identity, []
        if args.token == "aws:index/getPartition:getPartition":
            partition = {
                "partition": "aws",
                "dnsSuffix": "amazonaws.com",
                "reverseDnsPrefix": "com.amazonaws",
                "id": "aws",
            }
            return partition, []
        return {}, []

    def _arn(self, typ: str, name: str, inputs: Mapping[str, Any]) -> str:
        region, account = self.region, ACCOUNT_ID
        arns = {
            "aws:dynamodb/table:Table": f"arn:aws:dynamodb:{region}:{account}:table/{name}",
            "aws:lambda/function:Function": f"arn:aws:lambda:{region}:{account}:function:{name}",
            "aws:lambda/alias:Alias": (
                f"arn:aws:lambda:{region}:{account}:function:{inputs.get('functionName')}:{name}"
            ),
            "aws:sfn/stateMachine:StateMachine": (
                f"arn:aws:states:{region}:{account}:stateMachine:{name}"
            ),
            "aws:iam/role:Role": f"arn:aws:iam::{account}:role/{name}",
            "aws:cloudwatch/logGroup:LogGroup": f"arn:aws:logs:{region}:{account}:log-group:{name}",
            "aws:cloudwatch/eventRule:EventRule": f"arn:aws:events:{region}:{account}:rule/{name}",
            "aws:sqs/queue:Queue": f"arn:aws:sqs:{region}:{account}:{name}",
            "aws:secretsmanager/secret:Secret": (
                f"arn:aws:secretsmanager:{region}:{account}:secret:{name}-AbCdEf"
            ),
            "aws:sns/topic:Topic": f"arn:aws:sns:{region}:{account}:{name}",
        }
        return arns.get(typ, f"arn:aws:mock:{region}:{account}:{typ}/{name}")


def _json_default(value: Any) -> Any:
    path = getattr(value, "path", None)
    if isinstance(path, str):
        return {"__asset_path": path}
    return repr(value)


def main(argv: list[str]) -> int:
    """``python -m tests.functional.stack_program REQUEST.json RESULT.json``."""
    request = json.loads(Path(argv[0]).read_text())
    run = run_program(
        request["config"], request["secret_keys"], Path(request["build_dir"]), request["stack"]
    )
    Path(argv[1]).write_text(
        json.dumps({"resources": run.resources, "outputs": run.outputs}, default=_json_default)
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
