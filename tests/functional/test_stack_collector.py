"""The collector component on Pulumi's mocks: the real ``__main__.py``, its collector resources.

Both rules' patterns, their single target, the invoke permissions' source ARNs, the dead-letter
queue, and the IAM documents, parsed as AWS receives them.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from handlers.domain.status_change import durable_status_pattern, step_functions_status_pattern
from handlers.domain.tenant import Pattern
from tests.functional.stack_program import ROOT
from tests.functional.test_stack import Run, Runner, granted, statements

SF, LDF = Pattern.STEP_FUNCTIONS, Pattern.DURABLE
RULES = {SF: "collector-sf-rule", LDF: "collector-ldf-rule"}


@pytest.fixture(scope="module")
def dev(tmp_path_factory: pytest.TempPathFactory) -> Run:
    return Runner(tmp_path_factory.mktemp("stack-collector")).run(ROOT / "Pulumi.dev.yaml")


def collector(dev: Run) -> dict[str, Any]:
    return dev.functions()["collector-function"]


def test_rules_match_terminal_status_changes_of_this_stacks_executions_only(dev: Run) -> None:
    state_machine = dev.one("aws:sfn/stateMachine:StateMachine")["arn"]
    durable = dev.functions()["ldf-register-album"]["arn"]
    sf_rule = json.loads(dev.one("aws:cloudwatch/eventRule:EventRule", RULES[SF])["eventPattern"])
    ldf_rule = json.loads(dev.one("aws:cloudwatch/eventRule:EventRule", RULES[LDF])["eventPattern"])
    assert sf_rule == step_functions_status_pattern(state_machine)
    assert sf_rule["detail"]["status"] == ["SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED"]
    assert ldf_rule == durable_status_pattern(durable)
    # The event names the version that ran: the unqualified ARN and a colon, as a prefix.
    assert ldf_rule["detail"]["functionArn"] == [{"prefix": f"{durable}:"}]
    assert ldf_rule["detail"]["status"] == ["SUCCEEDED", "FAILED", "TIMED_OUT", "STOPPED"]


def test_each_rule_has_the_collector_as_its_single_target(dev: Run) -> None:
    function = collector(dev)
    queue = dev.one("aws:sqs/queue:Queue", "collector-dead-letters")
    for rule_name in RULES.values():
        rule = dev.one("aws:cloudwatch/eventRule:EventRule", rule_name)
        targets = [
            t
            for t in dev.of_type("aws:cloudwatch/eventTarget:EventTarget")
            if t["rule"] == rule["name"]
        ]
        assert len(targets) == 1, rule_name
        [target] = targets
        assert target["arn"] == function["arn"]
        assert target["deadLetterConfig"]["arn"] == queue["arn"]
        assert target["retryPolicy"]["maximumRetryAttempts"] > 0
    assert function["handler"] == "handlers.collector.handler"


def test_invoke_permissions_name_each_rule_as_source(dev: Run) -> None:
    function = collector(dev)
    permissions = [
        p
        for p in dev.of_type("aws:lambda/permission:Permission")
        if p["function"] == function["name"]
    ]
    rules = {dev.one("aws:cloudwatch/eventRule:EventRule", name)["arn"] for name in RULES.values()}
    assert {p["sourceArn"] for p in permissions} == rules
    assert all(p["principal"] == "events.amazonaws.com" for p in permissions)
    assert all(p["action"] == "lambda:InvokeFunction" for p in permissions)
    assert all("qualifier" not in p for p in permissions)


def test_failed_invocations_and_undeliverable_events_reach_the_dead_letter_queue(dev: Run) -> None:
    queue = dev.one("aws:sqs/queue:Queue", "collector-dead-letters")
    assert queue["sqsManagedSseEnabled"] is True
    invoke = dev.one("aws:lambda/functionEventInvokeConfig:FunctionEventInvokeConfig")
    assert invoke["functionName"] == collector(dev)["name"]
    assert invoke["destinationConfig"]["onFailure"]["destination"] == queue["arn"]
    policy = json.loads(
        dev.one("aws:sqs/queuePolicy:QueuePolicy", "collector-dead-letters-policy")["policy"]
    )
    [send] = [s for s in statements(policy) if s["Effect"] == "Allow"]
    rules = sorted(dev.one("aws:cloudwatch/eventRule:EventRule", n)["arn"] for n in RULES.values())
    assert send["Condition"] == {"ArnEquals": {"aws:SourceArn": rules}}


def test_collector_role_reads_only_this_stacks_histories_logs_and_table(dev: Run) -> None:
    function = collector(dev)
    role = function["role"].rsplit("/", 1)[-1]
    documents = [
        json.loads(p["policy"])
        for p in dev.of_type("aws:iam/rolePolicy:RolePolicy")
        if p["role"] == role
    ]
    assert len(documents) == 2  # the function's own (logs, table) and the collector's
    grants: dict[str, set[str]] = {}
    for policy in documents:
        for action, resources in granted(policy).items():
            grants.setdefault(action, set()).update(resources)
    table = dev.one("aws:dynamodb/table:Table")["arn"]
    machine = dev.one("aws:sfn/stateMachine:StateMachine")
    durable = dev.functions()["ldf-register-album"]["arn"]
    queue = dev.one("aws:sqs/queue:Queue", "collector-dead-letters")["arn"]
    assert grants["dynamodb:Query"] == {table}
    assert grants["dynamodb:UpdateItem"] == {table}
    execution_prefix = machine["arn"].replace(":stateMachine:", ":execution:")
    assert grants["states:GetExecutionHistory"] == {f"{execution_prefix}:*"}
    assert grants["lambda:GetDurableExecutionHistory"] == {f"{durable}:*/durable-execution/*"}
    assert grants["sqs:SendMessage"] == {queue}
    workflow_groups = {
        g["arn"]
        for g in dev.of_type("aws:cloudwatch/logGroup:LogGroup")
        if g["__name"].startswith(("sf-", "ldf-")) and g["__name"] != "sf-logs"
    }
    assert grants["logs:FilterLogEvents"] == workflow_groups | {f"{g}:*" for g in workflow_groups}
    assert set(grants) == {
        "logs:CreateLogStream",
        "logs:PutLogEvents",
        "dynamodb:Query",
        "dynamodb:UpdateItem",
        "states:GetExecutionHistory",
        "lambda:GetDurableExecutionHistory",
        "logs:FilterLogEvents",
        "cloudwatch:PutMetricData",
        "sqs:SendMessage",
    }


def test_metrics_may_only_go_to_the_two_namespaces(dev: Run) -> None:
    role = collector(dev)["role"].rsplit("/", 1)[-1]
    put = [
        statement
        for p in dev.of_type("aws:iam/rolePolicy:RolePolicy")
        if p["role"] == role
        for statement in statements(json.loads(p["policy"]))
        if "cloudwatch:PutMetricData" in statement["Action"]
    ]
    assert len(put) == 1
    assert put[0]["Resource"] == ["*"]
    assert put[0]["Condition"] == {
        "StringEquals": {"cloudwatch:namespace": sorted(p.metric_namespace for p in Pattern)}
    }


def test_collector_reads_cold_starts_from_the_workflow_log_groups(dev: Run) -> None:
    variables = collector(dev)["environment"]["variables"]
    groups = json.loads(variables["COLD_START_LOG_GROUPS"])
    functions = dev.functions()
    assert groups["ldf"] == [functions["ldf-register-album"]["loggingConfig"]["logGroup"]]
    assert sorted(groups["sf"]) == sorted(
        f["loggingConfig"]["logGroup"] for name, f in functions.items() if name.startswith("sf-")
    )
    assert float(variables["COLD_START_REPORT_WAIT_SECONDS"]) > 0
