"""The AWS path on Pulumi's mocks: deploy ordering, teardown timeouts and the reviewer policy.

Runs the real ``__main__.py`` through the same subprocess runner as ``test_stack.py`` and reads
what the program registered: each resource's dependencies (what Pulumi orders operations by),
its custom timeouts, and the reviewer policy document AWS would receive.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from handlers.domain.events import UPLOAD_PREFIX
from handlers.domain.tenant import Pattern
from stack.durable import DELETE_TIMEOUT
from stack.iam import WILDCARD_RESOURCE_ACTIONS
from tests.functional.stack_program import ROOT
from tests.functional.test_stack import Run, Runner, as_list, statements

FUNCTION = "aws:lambda/function:Function"


@pytest.fixture(scope="module")
def runner(tmp_path_factory: pytest.TempPathFactory) -> Runner:
    return Runner(tmp_path_factory.mktemp("stack-aws-path"))


@pytest.fixture(scope="module")
def dev(runner: Runner) -> Run:
    return runner.run(ROOT / "Pulumi.dev.yaml")


def registered(run: Run, kind: str) -> list[dict[str, Any]]:
    return [r for r in run.resources if r["type"] == kind]


def reviewer_document(run: Run) -> dict[str, Any]:
    policies = run.of_type("aws:iam/policy:Policy")
    assert len(policies) == 1, [p["__name"] for p in policies]
    return json.loads(policies[0]["policy"])


def grants_of(document: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    """Action -> the statements allowing it."""
    found: dict[str, list[dict[str, Any]]] = {}
    for statement in statements(document):
        assert statement["Effect"] == "Allow"
        for action in as_list(statement["Action"]):
            found.setdefault(action, []).append(statement)
    return found


# --- deploy ordering ---------------------------------------------------------------------------


def test_every_function_depends_on_the_uploaded_code_object(dev: Run) -> None:
    # GIVEN the one object holding the zip
    (code_object,) = registered(dev, "aws:s3/bucketObjectv2:BucketObjectv2")
    functions = registered(dev, FUNCTION)
    assert len(functions) >= 8  # seven tasks, the durable function, and any shared ones
    # THEN Pulumi creates or updates no function before the upload has finished
    for function in functions:
        assert code_object["urn"] in function["dependencies"], function["name"]
        assert function["state"]["s3Key"] == code_object["state"]["key"]
        assert function["state"]["s3Bucket"] == code_object["state"]["bucket"]


# --- teardown ----------------------------------------------------------------------------------


def test_the_durable_function_may_take_an_hour_to_delete(dev: Run) -> None:
    timeouts = {
        r["name"]: r["delete_timeout"]
        for r in registered(dev, FUNCTION)
        if r["state"].get("durableConfig")
    }
    assert timeouts == {"ldf-register-album": DELETE_TIMEOUT}
    assert DELETE_TIMEOUT == "60m"


def test_other_functions_keep_the_provider_delete_timeout(dev: Run) -> None:
    plain = [r for r in registered(dev, FUNCTION) if not r["state"].get("durableConfig")]
    assert len(plain) >= 7
    assert all(r["delete_timeout"] == "" for r in plain)


# --- the reviewer policy -----------------------------------------------------------------------


def test_reviewer_policy_is_exported(dev: Run) -> None:
    (policy,) = dev.of_type("aws:iam/policy:Policy")
    assert dev.outputs["reviewerPolicyArn"] == policy["arn"]


def test_reviewer_durable_actions_are_on_version_executions_never_the_alias(dev: Run) -> None:
    durable = dev.functions()["ldf-register-album"]
    alias = dev.outputs["durableFunctionArn"]
    grants = grants_of(reviewer_document(dev))
    for action in (
        "lambda:GetDurableExecution",
        "lambda:GetDurableExecutionHistory",
        "lambda:SendDurableExecutionCallbackSuccess",
        "lambda:SendDurableExecutionCallbackFailure",
    ):
        resources = {r for s in grants[action] for r in as_list(s["Resource"])}
        assert resources == {f"{durable['arn']}:*/durable-execution/*"}, action
        assert alias not in resources
        assert durable["arn"] not in resources  # an unqualified ARN never matches


def test_reviewer_reads_only_this_state_machines_executions(dev: Run) -> None:
    grants = grants_of(reviewer_document(dev))
    machine = dev.outputs["stateMachineArn"]
    name = machine.rsplit(":", 1)[-1]
    executions = machine.replace(":stateMachine:", ":execution:").rsplit(":", 1)[0]
    for action in ("states:DescribeExecution", "states:GetExecutionHistory"):
        resources = {r for s in grants[action] for r in as_list(s["Resource"])}
        assert resources == {f"{executions}:{name}:*"}


def test_reviewer_uploads_only_under_the_upload_prefix_and_uses_only_the_table(dev: Run) -> None:
    grants = grants_of(reviewer_document(dev))
    bucket = dev.one("aws:s3/bucket:Bucket", "storage-uploads")["arn"]
    (put,) = grants["s3:PutObject"]
    assert as_list(put["Resource"]) == [f"{bucket}/{UPLOAD_PREFIX}*"]
    table = dev.one("aws:dynamodb/table:Table")["arn"]
    for action in ("dynamodb:Query", "dynamodb:UpdateItem", "dynamodb:GetItem"):
        resources = {r for s in grants[action] for r in as_list(s["Resource"])}
        assert resources == {table, f"{table}/index/*"}
    assert not any(a.startswith("dynamodb:") and "Delete" in a for a in grants)


def test_reviewer_policy_allows_nothing_beyond_the_workflow(dev: Run) -> None:
    grants = grants_of(reviewer_document(dev))
    assert set(grants) == {
        "dynamodb:BatchGetItem",
        "dynamodb:GetItem",
        "dynamodb:PutItem",
        "dynamodb:Query",
        "dynamodb:UpdateItem",
        "s3:PutObject",
        "states:DescribeExecution",
        "states:GetExecutionHistory",
        "states:SendTaskFailure",
        "states:SendTaskSuccess",
        "lambda:GetDurableExecution",
        "lambda:GetDurableExecutionHistory",
        "lambda:SendDurableExecutionCallbackFailure",
        "lambda:SendDurableExecutionCallbackSuccess",
        "lambda:GetFunctionConfiguration",
        "cloudwatch:PutMetricData",
    }
    for action, found in grants.items():
        if any("*" in as_list(s["Resource"]) for s in found):
            assert action in WILDCARD_RESOURCE_ACTIONS, action


def test_reviewer_metrics_are_limited_to_the_two_namespaces(dev: Run) -> None:
    (statement,) = grants_of(reviewer_document(dev))["cloudwatch:PutMetricData"]
    namespaces = statement["Condition"]["StringEquals"]["cloudwatch:namespace"]
    assert sorted(namespaces) == sorted(p.metric_namespace for p in Pattern)


def test_reviewer_reads_the_configuration_of_both_workflows_functions_only(dev: Run) -> None:
    (statement,) = grants_of(reviewer_document(dev))["lambda:GetFunctionConfiguration"]
    workflows = {name: f for name, f in dev.functions().items() if name.startswith(("sf-", "ldf-"))}
    assert len(workflows) == 8
    arns = {f["arn"] for f in workflows.values()}
    assert set(statement["Resource"]) == arns | {f"{arn}:*" for arn in arns}
