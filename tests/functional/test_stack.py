"""The Pulumi program on mocks: the real ``__main__.py``, every resource it declares, checked.

Each run is a subprocess (see ``stack_program``): Pulumi's runtime is process-wide state.
Runs are cached per (stack file, overrides) for the module, about 1.5 s each.
"""

from __future__ import annotations

import base64
import hashlib
import json
import subprocess
import sys
import zipfile
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from albumreg.client.target import STACK_OUTPUTS
from handlers.adapters.table_schema import (
    KEY_ATTRIBUTES,
    PARTITION_KEY,
    SORT_KEY,
    STATUS_INDEX,
    STATUS_INDEX_PARTITION_KEY,
    STATUS_INDEX_SORT_KEY,
)
from handlers.config import Settings
from handlers.domain.events import UPLOAD_PREFIX, upload_event_pattern
from handlers.domain.policy import DURABLE_EXECUTION_MARGIN_SECONDS, DURABLE_RETENTION_DAYS
from handlers.domain.tenant import Pattern
from stack import asl
from stack.durable import DURABLE_EXECUTION_POLICY_ARN
from stack.observability import WORKFLOW_METRICS
from tests.functional.stack_program import FAKE_TOKEN, ROOT, effective_config

SECRET_SIG_KEY = "4dabf18193072939515e22adb298388d"
SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270"
"""How the Pulumi wire format marks a secret value (``pulumi.runtime.rpc``)."""

STACK_FILES = sorted(ROOT.glob("Pulumi.*.yaml"))
SECRETS = {"albumreg:pricingToken": FAKE_TOKEN}
VARIANT = {
    "albumreg:pricingAgent": "bedrock",
    "albumreg:pricingModelId": "global.anthropic.claude-haiku-4-5-20251001-v1:0",
    "albumreg:visionModelId": "amazon.nova-lite-v1:0",
    "albumreg:lambdaArchitecture": "x86_64",
    "albumreg:alarmEmail": "ops@example.com",
    "albumreg:stateMachineLogLevel": "ALL",
    "albumreg:stateMachineIncludeExecutionData": "true",
}
"""Every optional branch at once: LLM pricing, a global profile, x86, alarm e-mail, full logs."""

ALLOWED_WILDCARD_RESOURCE = {
    "xray:PutTraceSegments": "X-Ray takes no resource ARN",
    "xray:PutTelemetryRecords": "X-Ray takes no resource ARN",
    "xray:GetSamplingRules": "X-Ray takes no resource ARN",
    "xray:GetSamplingTargets": "X-Ray takes no resource ARN",
    "logs:CreateLogDelivery": "Step Functions log delivery: AWS documents Resource *",
    "logs:GetLogDelivery": "Step Functions log delivery: AWS documents Resource *",
    "logs:UpdateLogDelivery": "Step Functions log delivery: AWS documents Resource *",
    "logs:DeleteLogDelivery": "Step Functions log delivery: AWS documents Resource *",
    "logs:ListLogDeliveries": "Step Functions log delivery: AWS documents Resource *",
    "logs:PutResourcePolicy": "Step Functions log delivery: AWS documents Resource *",
    "logs:DescribeResourcePolicies": "Step Functions log delivery: AWS documents Resource *",
    "logs:DescribeLogGroups": "Step Functions log delivery: AWS documents Resource *",
    "cloudwatch:PutMetricData": "metrics have no ARN; scoped by the cloudwatch:namespace condition",
    "states:SendTaskSuccess": "reviewer policy: a task token names no resource",
    "states:SendTaskFailure": "reviewer policy: a task token names no resource",
}
"""Kept here on purpose, apart from ``stack.iam``: a new wildcard grant must change this test."""


@dataclass(frozen=True)
class Run:
    """One program run: its config, resources and stack outputs."""

    config: dict[str, str]
    resources: list[dict[str, Any]]
    outputs: dict[str, Any]

    def of_type(self, kind: str) -> list[dict[str, Any]]:
        return [r["state"] | {"__name": r["name"]} for r in self.resources if r["type"] == kind]

    def one(self, kind: str, name: str | None = None) -> dict[str, Any]:
        found = [r for r in self.of_type(kind) if name is None or r["__name"] == name]
        assert len(found) == 1, f"{kind} {name}: {len(found)} found"
        return found[0]

    def functions(self) -> dict[str, dict[str, Any]]:
        return {f["__name"]: f for f in self.of_type("aws:lambda/function:Function")}

    def role_policy(self, role_name: str) -> dict[str, Any]:
        """Everything the role's inline policies allow, as one document."""
        policies = [
            json.loads(p["policy"])
            for p in self.of_type("aws:iam/rolePolicy:RolePolicy")
            if p["role"] == role_name
        ]
        assert policies, role_name
        return {
            "Version": policies[0]["Version"],
            "Statement": [s for policy in policies for s in statements(policy)],
        }

    def function_policy(self, function: Mapping[str, Any]) -> dict[str, Any]:
        role_name = function["role"].rsplit("/", 1)[-1]
        return self.role_policy(role_name)


class Runner:
    """Runs the program in a subprocess per config and keeps the results."""

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.cache: dict[tuple[str, str], Run] = {}

    def run(self, stack_file: Path, overrides: Mapping[str, str] | None = None) -> Run:
        key = (stack_file.name, json.dumps(dict(overrides or {}), sort_keys=True))
        if key not in self.cache:
            self.cache[key] = self._run(stack_file, overrides)
        return self.cache[key]

    def _run(self, stack_file: Path, overrides: Mapping[str, str] | None) -> Run:
        config, secret_keys = effective_config(stack_file, SECRETS, overrides)
        completed = self.execute(config, secret_keys, stack_file)
        assert completed.returncode == 0, completed.stderr[-3000:]
        result = json.loads((self.workdir / f"{len(self.cache)}.out.json").read_text())
        return Run(config=config, resources=result["resources"], outputs=result["outputs"])

    def execute(
        self, config: Mapping[str, str], secret_keys: list[str], stack_file: Path
    ) -> subprocess.CompletedProcess[str]:
        index = len(self.cache)
        request = self.workdir / f"{index}.request.json"
        request.write_text(
            json.dumps(
                {
                    "config": dict(config),
                    "secret_keys": secret_keys,
                    "build_dir": str(self.workdir / "build"),
                    "stack": stack_file.name.split(".")[1],
                }
            )
        )
        return subprocess.run(
            [
                sys.executable,
                "-m",
                "tests.functional.stack_program",
                str(request),
                str(self.workdir / f"{index}.out.json"),
            ],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )


@pytest.fixture(scope="module")
def runner(tmp_path_factory: pytest.TempPathFactory) -> Runner:
    return Runner(tmp_path_factory.mktemp("stack"))


@pytest.fixture(scope="module")
def dev(runner: Runner) -> Run:
    return runner.run(ROOT / "Pulumi.dev.yaml")


@pytest.fixture(scope="module")
def variant(runner: Runner) -> Run:
    return runner.run(ROOT / "Pulumi.dev.yaml", VARIANT)


def statements(document: Mapping[str, Any]) -> Iterator[dict[str, Any]]:
    body = document["Statement"]
    yield from body if isinstance(body, list) else [body]


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def granted(document: Mapping[str, Any]) -> dict[str, set[str]]:
    """Allowed action -> resources, over all Allow statements."""
    grants: dict[str, set[str]] = {}
    for statement in statements(document):
        if statement["Effect"] == "Allow":
            for action in as_list(statement["Action"]):
                grants.setdefault(action, set()).update(as_list(statement["Resource"]))
    return grants


def all_policy_documents(run: Run) -> list[tuple[str, dict[str, Any]]]:
    documents = [
        (f"role policy {p['__name']}", json.loads(p["policy"]))
        for p in run.of_type("aws:iam/rolePolicy:RolePolicy")
    ]
    documents += [
        (f"trust policy {r['__name']}", json.loads(r["assumeRolePolicy"]))
        for r in run.of_type("aws:iam/role:Role")
    ]
    documents += [
        (f"bucket policy {p['__name']}", json.loads(p["policy"]))
        for p in run.of_type("aws:s3/bucketPolicy:BucketPolicy")
    ]
    documents += [
        (f"queue policy {p['__name']}", json.loads(p["policy"]))
        for p in run.of_type("aws:sqs/queuePolicy:QueuePolicy")
    ]
    return documents


# --- the program runs with every stack file --------------------------------------------------


@pytest.mark.parametrize("stack_file", STACK_FILES, ids=lambda p: p.name)
def test_stack_file_runs_the_program_and_exports_what_the_cli_reads(
    runner: Runner, stack_file: Path
) -> None:
    run = runner.run(stack_file)
    assert set(run.outputs) == set(STACK_OUTPUTS)
    assert run.outputs["region"] == run.config["aws:region"]
    assert all(isinstance(value, str) and value for value in run.outputs.values())


def test_outputs_name_the_resources_of_this_stack(dev: Run) -> None:
    alias = dev.one("aws:lambda/alias:Alias")
    assert dev.outputs["durableFunctionArn"] == alias["arn"]
    assert dev.outputs["stateMachineArn"] == dev.one("aws:sfn/stateMachine:StateMachine")["arn"]
    assert dev.outputs["tableName"] == dev.one("aws:dynamodb/table:Table")["name"]
    assert dev.outputs["bucketName"] == dev.one("aws:s3/bucket:Bucket", "storage-uploads")["bucket"]
    dashboard = dev.one("aws:cloudwatch/dashboard:Dashboard")
    assert dashboard["dashboardName"] in dev.outputs["dashboardUrl"]
    assert dev.outputs["dashboardUrl"].startswith(f"https://{dev.config['aws:region']}.console.")


def test_an_invalid_config_value_stops_the_program(runner: Runner) -> None:
    config, secret_keys = effective_config(
        ROOT / "Pulumi.dev.yaml", SECRETS, {"albumreg:logRetentionDays": "8"}
    )
    completed = runner.execute(config, secret_keys, ROOT / "Pulumi.dev.yaml")
    assert completed.returncode != 0
    assert "logRetentionDays=8" in completed.stderr


@pytest.mark.parametrize(
    ("component", "kind", "name"),
    [
        ("UploadTrigger", "aws:sqs/queue:Queue", "uploads-dead-letters"),
        ("UploadTrigger", "aws:sqs/queuePolicy:QueuePolicy", "uploads-dead-letters-policy"),
        ("UploadTrigger", "aws:cloudwatch/eventTarget:EventTarget", "uploads-step-functions"),
        ("UploadTrigger", "aws:cloudwatch/eventTarget:EventTarget", "uploads-durable"),
        ("MetricsCollector", "aws:sqs/queue:Queue", "collector-dead-letters"),
        ("MetricsCollector", "aws:sqs/queuePolicy:QueuePolicy", "collector-dead-letters-policy"),
        ("MetricsCollector", "aws:cloudwatch/eventTarget:EventTarget", "collector-sf-target"),
        ("MetricsCollector", "aws:cloudwatch/eventTarget:EventTarget", "collector-ldf-target"),
    ],
)
def test_delivery_resources_keep_their_urns(dev: Run, component: str, kind: str, name: str) -> None:
    """Built by ``stack.delivery`` for both components: same names and parents, so a deployed
    stack's queues and targets are updated in place, never replaced."""
    urns = [r["urn"] for r in dev.resources if r["name"] == name and r["type"] == kind]
    assert [urn.split("::", 2)[2] for urn in urns] == [f"albumreg:index:{component}${kind}::{name}"]


def test_every_resource_is_parented_to_a_component(dev: Run) -> None:
    orphans = [
        r["urn"]
        for r in dev.resources
        if r["type"].startswith("aws:") and "albumreg:index:" not in r["parent"]
    ]
    assert orphans == []
    components = {r["type"] for r in dev.resources if r["type"].startswith("albumreg:index:")}
    assert {
        "albumreg:index:Storage",
        "albumreg:index:StepFunctionsWorkflow",
        "albumreg:index:DurableWorkflow",
        "albumreg:index:UploadTrigger",
        "albumreg:index:Observability",
        "albumreg:index:PricingSecret",
        "albumreg:index:LambdaArtifact",
    } <= components


# --- trigger ----------------------------------------------------------------------------------


def test_rule_has_exactly_the_state_machine_and_the_durable_alias_as_targets(dev: Run) -> None:
    rule = dev.one("aws:cloudwatch/eventRule:EventRule", "uploads-rule")
    targets = [
        t
        for t in dev.of_type("aws:cloudwatch/eventTarget:EventTarget")
        if t["rule"] == rule["name"]
    ]
    assert len(targets) == 2
    assert {t["rule"] for t in targets} == {rule["name"]}
    state_machine = dev.one("aws:sfn/stateMachine:StateMachine")
    alias = dev.one("aws:lambda/alias:Alias")
    by_arn = {t["arn"]: t for t in targets}
    assert set(by_arn) == {state_machine["arn"], alias["arn"]}
    durable_target = by_arn[alias["arn"]]
    function = dev.functions()["ldf-register-album"]
    # A durable function only runs through a qualified ARN: the alias, never the function.
    assert durable_target["arn"] != function["arn"]
    assert durable_target["arn"].endswith(f":{alias['name']}")
    queue = dev.one("aws:sqs/queue:Queue", "uploads-dead-letters")
    for target in targets:
        assert target["deadLetterConfig"]["arn"] == queue["arn"]
        assert target["retryPolicy"]["maximumRetryAttempts"] > 0
        assert target["retryPolicy"]["maximumEventAgeInSeconds"] > 0


def test_rule_matches_uploads_with_the_shared_event_pattern(dev: Run) -> None:
    rule = dev.one("aws:cloudwatch/eventRule:EventRule", "uploads-rule")
    bucket = dev.outputs["bucketName"]
    assert json.loads(rule["eventPattern"]) == upload_event_pattern(bucket, UPLOAD_PREFIX)


def test_state_machine_target_role_may_only_start_that_state_machine(dev: Run) -> None:
    state_machine = dev.one("aws:sfn/stateMachine:StateMachine")
    target = next(
        t
        for t in dev.of_type("aws:cloudwatch/eventTarget:EventTarget")
        if t["arn"] == state_machine["arn"]
    )
    role_name = target["roleArn"].rsplit("/", 1)[-1]
    assert granted(dev.role_policy(role_name)) == {"states:StartExecution": {state_machine["arn"]}}
    trust = json.loads(dev.one("aws:iam/role:Role", "uploads-start-role")["assumeRolePolicy"])
    statement = next(statements(trust))
    assert statement["Principal"] == {"Service": "events.amazonaws.com"}
    assert statement["Condition"]["StringEquals"]["aws:SourceAccount"] == "123456789012"


def test_durable_invoke_permission_is_for_the_alias_and_the_rule_only(dev: Run) -> None:
    permission = dev.one("aws:lambda/permission:Permission", "uploads-durable-permission")
    alias = dev.one("aws:lambda/alias:Alias")
    assert permission["qualifier"] == alias["name"]
    assert permission["function"] == dev.functions()["ldf-register-album"]["name"]
    assert permission["principal"] == "events.amazonaws.com"
    assert permission["action"] == "lambda:InvokeFunction"
    assert (
        permission["sourceArn"]
        == dev.one("aws:cloudwatch/eventRule:EventRule", "uploads-rule")["arn"]
    )


def test_dead_letter_queue_is_encrypted_and_only_the_rule_may_send(dev: Run) -> None:
    queue = dev.one("aws:sqs/queue:Queue", "uploads-dead-letters")
    assert queue["sqsManagedSseEnabled"] is True
    policy = json.loads(
        dev.one("aws:sqs/queuePolicy:QueuePolicy", "uploads-dead-letters-policy")["policy"]
    )
    allows = [s for s in statements(policy) if s["Effect"] == "Allow"]
    assert allows == [
        {
            "Sid": "UndeliveredUploadEvents",
            "Effect": "Allow",
            "Principal": {"Service": "events.amazonaws.com"},
            "Action": "sqs:SendMessage",
            "Resource": queue["arn"],
            "Condition": {
                "ArnEquals": {
                    "aws:SourceArn": [
                        dev.one("aws:cloudwatch/eventRule:EventRule", "uploads-rule")["arn"]
                    ]
                }
            },
        }
    ]


# --- the two workflows ------------------------------------------------------------------------


def test_durable_function_runs_longer_than_the_review_and_is_published(dev: Run) -> None:
    function = dev.functions()["ldf-register-album"]
    review_timeout = int(dev.config["albumreg:reviewTimeoutSeconds"])
    durable = function["durableConfig"]
    assert durable["executionTimeout"] > review_timeout
    assert durable["executionTimeout"] == review_timeout + DURABLE_EXECUTION_MARGIN_SECONDS
    assert durable["retentionPeriod"] == DURABLE_RETENTION_DAYS
    assert function["publish"] is True
    assert function["handler"] == "handlers.durable.handler"
    alias = dev.one("aws:lambda/alias:Alias")
    assert alias["functionName"] == function["name"]
    assert alias["functionVersion"] == function["version"]
    attachment = dev.one("aws:iam/rolePolicyAttachment:RolePolicyAttachment")
    assert attachment["policyArn"] == DURABLE_EXECUTION_POLICY_ARN
    assert function["role"].endswith(f"/{attachment['role']}")


def test_only_the_durable_function_is_durable(dev: Run) -> None:
    durable = {name for name, f in dev.functions().items() if f.get("durableConfig")}
    assert durable == {"ldf-register-album"}


def test_state_machine_is_standard_and_its_definition_names_only_this_stack(dev: Run) -> None:
    state_machine = dev.one("aws:sfn/stateMachine:StateMachine")
    assert state_machine["type"] == "STANDARD"
    text = state_machine["definition"]
    assert "${" not in text
    definition = json.loads(text)
    assert asl.validate(definition) == []
    task_arns = {f["arn"] for name, f in dev.functions().items() if name.startswith("sf-")}
    named = set(lambda_arns(definition))
    assert named == task_arns
    assert len(task_arns) == len(asl.TASK_FUNCTIONS)


def lambda_arns(value: Any) -> Iterator[str]:
    if isinstance(value, str) and value.startswith("arn:aws:lambda:"):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from lambda_arns(item)
    elif isinstance(value, list):
        for item in value:
            yield from lambda_arns(item)


def test_each_task_function_runs_its_handler_from_the_task_table(dev: Run) -> None:
    functions = dev.functions()
    for task in asl.TASK_FUNCTIONS:
        assert functions[f"sf-{task.name}"]["handler"] == task.handler


def test_state_machine_role_invokes_only_its_task_functions(dev: Run) -> None:
    state_machine = dev.one("aws:sfn/stateMachine:StateMachine")
    policy = dev.role_policy(state_machine["roleArn"].rsplit("/", 1)[-1])
    task_arns = {f["arn"] for name, f in dev.functions().items() if name.startswith("sf-")}
    assert granted(policy)["lambda:InvokeFunction"] == task_arns
    assert dev.functions()["ldf-register-album"]["arn"] not in task_arns


@pytest.mark.parametrize("run_name", ["dev", "variant"])
def test_state_machine_logs_and_traces_as_configured(
    run_name: str, request: pytest.FixtureRequest
) -> None:
    run: Run = request.getfixturevalue(run_name)
    state_machine = run.one("aws:sfn/stateMachine:StateMachine")
    logging = state_machine["loggingConfiguration"]
    assert logging["level"] == run.config["albumreg:stateMachineLogLevel"]
    include = run.config["albumreg:stateMachineIncludeExecutionData"] == "true"
    assert logging["includeExecutionData"] is include
    log_group = run.one("aws:cloudwatch/logGroup:LogGroup", "sf-logs")
    assert logging["logDestination"] == f"{log_group['arn']}:*"
    assert log_group["retentionInDays"] == int(run.config["albumreg:logRetentionDays"])
    assert state_machine["tracingConfiguration"] == {"enabled": True}


# --- IAM --------------------------------------------------------------------------------------


@pytest.mark.parametrize("run_name", ["dev", "variant"])
def test_every_policy_document_grants_no_wildcard_beyond_the_allowed_list(
    run_name: str, request: pytest.FixtureRequest
) -> None:
    run: Run = request.getfixturevalue(run_name)
    documents = all_policy_documents(run)
    assert len(documents) >= 2 * len(run.functions()) + 4
    for where, document in documents:
        assert document["Version"] == "2012-10-17", where
        for statement in statements(document):
            actions = as_list(statement["Action"])
            if statement["Effect"] == "Deny":
                # The TLS-only denies are the only Deny statements, and may cover service:*.
                assert statement["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
                continue
            assert not [a for a in actions if "*" in a], where
            if "*" in as_list(statement.get("Resource", [])):
                assert set(actions) <= set(ALLOWED_WILDCARD_RESOURCE), (where, actions)


def test_the_stack_allow_list_is_the_reviewed_one() -> None:
    from stack.iam import WILDCARD_RESOURCE_ACTIONS

    assert set(WILDCARD_RESOURCE_ACTIONS) == set(ALLOWED_WILDCARD_RESOURCE)
    assert all(reason for reason in WILDCARD_RESOURCE_ACTIONS.values())


def test_each_task_function_role_allows_only_what_the_task_does(dev: Run) -> None:
    functions = dev.functions()
    table = dev.one("aws:dynamodb/table:Table")["arn"]
    uploads = dev.one("aws:s3/bucket:Bucket", "storage-uploads")["arn"]
    secret = dev.one("aws:secretsmanager/secret:Secret")["arn"]
    log_actions = {"logs:CreateLogStream", "logs:PutLogEvents"}

    extract = granted(dev.function_policy(functions["sf-extract-albums"]))
    assert set(extract) == log_actions | {
        "s3:GetObject",
        "bedrock:InvokeModel",
        "dynamodb:PutItem",
        "dynamodb:UpdateItem",
    }
    assert extract["s3:GetObject"] == {f"{uploads}/{UPLOAD_PREFIX}*"}
    assert extract["dynamodb:PutItem"] == {table}

    price = granted(dev.function_policy(functions["sf-price-album"]))
    assert set(price) == log_actions | {"secretsmanager:GetSecretValue"}
    assert price["secretsmanager:GetSecretValue"] == {secret}

    for name in ("sf-record-failure", "sf-record-rejection", "sf-record-review-timeout"):
        assert set(granted(dev.function_policy(functions[name]))) == log_actions | {
            "dynamodb:UpdateItem"
        }
    assert set(granted(dev.function_policy(functions["sf-request-review"]))) == log_actions | {
        "dynamodb:PutItem"
    }


def test_functions_write_only_to_their_own_log_group(dev: Run) -> None:
    for function in dev.functions().values():
        log_group = function["loggingConfig"]["logGroup"]
        group_arn = next(
            g["arn"]
            for g in dev.of_type("aws:cloudwatch/logGroup:LogGroup")
            if g["name"] == log_group
        )
        logs = granted(dev.function_policy(function))["logs:PutLogEvents"]
        assert logs == {group_arn, f"{group_arn}:*"}


def test_only_price_functions_may_read_the_pricing_token(dev: Run) -> None:
    readers = {
        name
        for name, function in dev.functions().items()
        if "secretsmanager:GetSecretValue" in granted(dev.function_policy(function))
    }
    assert readers == {"sf-price-album", "ldf-register-album"}


def test_vision_model_is_granted_through_its_inference_profile_only(dev: Run) -> None:
    policy = dev.function_policy(dev.functions()["sf-extract-albums"])
    profile_id = dev.config["albumreg:visionModelId"]
    model = profile_id.split(".", 1)[1]
    region = dev.config["aws:region"]
    profile = f"arn:aws:bedrock:{region}:123456789012:inference-profile/{profile_id}"
    bedrock = [s for s in statements(policy) if s["Action"] == ["bedrock:InvokeModel"]]
    assert {tuple(s["Resource"]) for s in bedrock} == {
        (profile,),
        (f"arn:aws:bedrock:*::foundation-model/{model}",),
    }
    through_profile = next(s for s in bedrock if "foundation-model" in s["Resource"][0])
    assert through_profile["Condition"] == {
        "StringEquals": {"bedrock:InferenceProfileArn": profile}
    }


def test_llm_pricing_agent_gets_its_model_and_a_plain_model_id_no_profile(variant: Run) -> None:
    functions = variant.functions()
    price = granted(variant.function_policy(functions["sf-price-album"]))
    model = VARIANT["albumreg:pricingModelId"].split(".", 1)[1]
    assert price["bedrock:InvokeModel"] >= {
        f"arn:aws:bedrock:*::foundation-model/{model}",
        f"arn:aws:bedrock:::foundation-model/{model}",
    }
    extract = granted(variant.function_policy(functions["sf-extract-albums"]))
    region = variant.config["aws:region"]
    vision = VARIANT["albumreg:visionModelId"]
    assert extract["bedrock:InvokeModel"] == {
        f"arn:aws:bedrock:{region}::foundation-model/{vision}"
    }


# --- storage ----------------------------------------------------------------------------------


def test_every_bucket_is_private_encrypted_and_tls_only(dev: Run) -> None:
    buckets = dev.of_type("aws:s3/bucket:Bucket")
    assert len(buckets) == 2
    for bucket in buckets:
        bucket_id = bucket["bucket"]
        block = next(
            b
            for b in dev.of_type("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock")
            if b["bucket"] == bucket_id
        )
        assert all(
            block[flag] is True
            for flag in (
                "blockPublicAcls",
                "blockPublicPolicy",
                "ignorePublicAcls",
                "restrictPublicBuckets",
            )
        )
        encryption = next(
            e
            for e in dev.of_type(
                "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration"
            )
            if e["bucket"] == bucket_id
        )
        default = encryption["rules"][0]["applyServerSideEncryptionByDefault"]
        assert default["sseAlgorithm"] == "AES256"
        policy = json.loads(
            next(
                p
                for p in dev.of_type("aws:s3/bucketPolicy:BucketPolicy")
                if p["bucket"] == bucket_id
            )["policy"]
        )
        [deny] = [s for s in statements(policy) if s["Effect"] == "Deny"]
        assert deny["Principal"] == "*"
        assert deny["Action"] == "s3:*"
        assert set(deny["Resource"]) == {bucket["arn"], f"{bucket['arn']}/*"}
        assert deny["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
        assert bucket["forceDestroy"] is True


def test_upload_bucket_sends_events_and_expires_uploads(dev: Run) -> None:
    bucket = dev.one("aws:s3/bucket:Bucket", "storage-uploads")["bucket"]
    notification = dev.one("aws:s3/bucketNotification:BucketNotification")
    assert notification == notification | {"bucket": bucket, "eventbridge": True}
    lifecycle = dev.one("aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration")
    expire = next(rule for rule in lifecycle["rules"] if "expiration" in rule)
    assert expire["filter"]["prefix"] == UPLOAD_PREFIX
    assert expire["expiration"]["days"] == int(dev.config["albumreg:uploadExpiryDays"])
    assert expire["status"] == "Enabled"


def test_table_follows_the_shared_schema_with_pitr_and_encryption(dev: Run) -> None:
    table = dev.one("aws:dynamodb/table:Table")
    assert table["billingMode"] == "PAY_PER_REQUEST"
    assert (table["hashKey"], table["rangeKey"]) == (PARTITION_KEY, SORT_KEY)
    assert {(a["name"], a["type"]) for a in table["attributes"]} == set(KEY_ATTRIBUTES)
    [index] = table["globalSecondaryIndexes"]
    assert index["name"] == STATUS_INDEX
    assert index["projectionType"] == "ALL"
    assert [(k["attributeName"], k["keyType"]) for k in index["keySchemas"]] == [
        (STATUS_INDEX_PARTITION_KEY, "HASH"),
        (STATUS_INDEX_SORT_KEY, "RANGE"),
    ]
    assert table["pointInTimeRecovery"]["enabled"] is True
    assert table["serverSideEncryption"]["enabled"] is True


# --- functions: packaging, runtime, settings -------------------------------------------------


@pytest.mark.parametrize("run_name", ["dev", "variant"])
def test_every_function_uses_the_shared_artifact_runtime_and_architecture(
    run_name: str, request: pytest.FixtureRequest
) -> None:
    run: Run = request.getfixturevalue(run_name)
    artifact = run.one("aws:s3/bucketObjectv2:BucketObjectv2")
    zip_path = Path(artifact["source"]["__asset_path"])
    digest = base64.b64encode(hashlib.sha256(zip_path.read_bytes()).digest()).decode()
    architecture = run.config["albumreg:lambdaArchitecture"]
    assert f"-{architecture}-" in zip_path.name
    functions = run.functions()
    assert len(functions) == len(asl.TASK_FUNCTIONS) + 2  # the durable function, the collector
    for name, function in functions.items():
        assert function["runtime"] == "python3.13", name
        assert function["architectures"] == [architecture], name
        assert function["memorySize"] == int(run.config["albumreg:lambdaMemoryMb"]), name
        assert function["s3Bucket"] == artifact["bucket"], name
        assert function["s3Key"] == artifact["key"], name
        assert function["sourceCodeHash"] == digest, name
        assert 0 < function["timeout"] <= 900, name


def test_artifact_holds_every_handler_module_and_no_local_code(dev: Run) -> None:
    artifact = dev.one("aws:s3/bucketObjectv2:BucketObjectv2")
    with zipfile.ZipFile(artifact["source"]["__asset_path"]) as archive:
        names = set(archive.namelist())
    for function in dev.functions().values():
        module = function["handler"].rsplit(".", 1)[0]
        assert f"{module.replace('.', '/')}.py" in names
    assert not [n for n in names if n.startswith(("albumreg/", "stack/", "tests/"))]


def test_pricing_token_is_never_a_plain_environment_variable(dev: Run) -> None:
    secret = dev.one("aws:secretsmanager/secret:Secret")
    version = dev.one("aws:secretsmanager/secretVersion:SecretVersion")
    # The value reaches Secrets Manager still wrapped as a Pulumi secret: encrypted in state.
    assert version["secretString"] == {SECRET_SIG_KEY: SECRET_SIG, "value": FAKE_TOKEN}
    assert version["secretId"] == secret["arn"]
    for name, function in dev.functions().items():
        variables = function["environment"]["variables"]
        assert "PRICING_TOKEN" not in variables, name
        assert FAKE_TOKEN not in json.dumps(function), name
        if name in {"sf-price-album", "ldf-register-album"}:
            assert variables["PRICING_TOKEN_SECRET"] == secret["arn"]
        else:
            assert "PRICING_TOKEN_SECRET" not in variables, name


@pytest.mark.parametrize("run_name", ["dev", "variant"])
def test_function_environment_is_the_handlers_settings(
    run_name: str, request: pytest.FixtureRequest
) -> None:
    run: Run = request.getfixturevalue(run_name)
    table = run.one("aws:dynamodb/table:Table")["name"]
    for name, function in run.functions().items():
        settings = Settings.from_env(function["environment"]["variables"])
        assert settings.table_name == table, name
        assert settings.metrics_mode == "emf"
        assert settings.upload_prefix == UPLOAD_PREFIX
        assert settings.review_timeout_seconds == int(run.config["albumreg:reviewTimeoutSeconds"])
        assert settings.vision_model_id == run.config["albumreg:visionModelId"]
        assert settings.pricing_agent == run.config["albumreg:pricingAgent"]
        assert settings.pricing_base_url == run.config["albumreg:pricingBaseUrl"]


def test_every_function_logs_to_its_own_group_with_retention(dev: Run) -> None:
    groups = {g["name"]: g for g in dev.of_type("aws:cloudwatch/logGroup:LogGroup")}
    used = [f["loggingConfig"]["logGroup"] for f in dev.functions().values()]
    assert len(set(used)) == len(used)
    for name in used:
        assert groups[name]["retentionInDays"] == int(dev.config["albumreg:logRetentionDays"])


# --- observability ----------------------------------------------------------------------------


def test_dashboard_compares_both_namespaces_and_the_state_machine(dev: Run) -> None:
    body = json.loads(dev.one("aws:cloudwatch/dashboard:Dashboard")["dashboardBody"])
    series = [
        metric
        for widget in body["widgets"]
        if widget["type"] == "metric"
        for metric in widget["properties"]["metrics"]
    ]
    for name in WORKFLOW_METRICS:
        namespaces = {m[0] for m in series if m[1] == name}
        assert namespaces == {pattern.metric_namespace for pattern in Pattern}, name
    state_machine = dev.one("aws:sfn/stateMachine:StateMachine")["arn"]
    states = {(m[1], m[3]) for m in series if m[0] == "AWS/States"}
    assert states == {("ExecutionsFailed", state_machine), ("ExecutionTime", state_machine)}
    assert all(w["x"] >= 0 and w["x"] + w["width"] <= 24 for w in body["widgets"])


def test_dashboard_metrics_are_the_ones_the_workflow_emits() -> None:
    source = (ROOT / "handlers" / "domain" / "workflow.py").read_text()
    assert all(f'"{name}"' in source for name in WORKFLOW_METRICS)


def test_alarms_watch_failures_of_both_patterns_without_email_by_default(dev: Run) -> None:
    alarms = dev.of_type("aws:cloudwatch/metricAlarm:MetricAlarm")
    watched = {(a["namespace"], a["metricName"]) for a in alarms}
    assert watched == {
        ("AWS/States", "ExecutionsFailed"),
        (Pattern.STEP_FUNCTIONS.metric_namespace, "WorkflowsFailed"),
        (Pattern.DURABLE.metric_namespace, "WorkflowsFailed"),
    }
    assert dev.of_type("aws:sns/topic:Topic") == []
    assert all(not a.get("alarmActions") for a in alarms)


def test_alarm_email_subscribes_to_a_topic_every_alarm_notifies(variant: Run) -> None:
    topic = variant.one("aws:sns/topic:Topic")
    subscription = variant.one("aws:sns/topicSubscription:TopicSubscription")
    assert subscription["protocol"] == "email"
    assert subscription["endpoint"] == VARIANT["albumreg:alarmEmail"]
    assert subscription["topic"] == topic["arn"]
    for alarm in variant.of_type("aws:cloudwatch/metricAlarm:MetricAlarm"):
        assert alarm["alarmActions"] == [topic["arn"]]
