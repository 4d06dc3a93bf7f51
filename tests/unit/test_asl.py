"""The ASL file as data: placeholders, structure, names and numbers held to the policy module."""

from __future__ import annotations

import copy
import importlib
import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from handlers.domain import names
from handlers.domain.models import PriceEstimate, PriceRequest, StoreRequest
from handlers.domain.policy import (
    AGENT_CONCURRENCY,
    EXTRACT_RETRY,
    PRICE_RETRY,
    RETRYABLE_ERRORS,
    REVIEW_REQUEST_RETRY,
    STORE_RETRY,
    RetryPolicy,
)
from handlers.domain.tenant import Pattern
from stack.asl import (
    TASK_FUNCTIONS,
    RenderError,
    iter_states,
    load_definition,
    placeholders,
    render,
    task_substitutions,
    validate,
)

pytestmark = pytest.mark.pattern_sf

ROOT = Path(__file__).parents[2]
VALIDATOR = ROOT / "node_modules" / ".bin" / "asl-validator"
ARNS = {
    function.name: f"arn:aws:lambda:us-east-1:123456789012:function:albumreg-{function.name}"
    for function in TASK_FUNCTIONS
}
RETRY_POLICY_BY_STATE = {
    "extract-albums": EXTRACT_RETRY,
    "review-years": REVIEW_REQUEST_RETRY,
    "price-album": PRICE_RETRY,
    "store-results": STORE_RETRY,
    "record-review-timeout": STORE_RETRY,
    "record-rejection": STORE_RETRY,
    "record-failure": STORE_RETRY,
}
"""Which policy each task follows; the bookkeeping tasks are writes like store-results."""


def rendered() -> dict[str, Any]:
    definition: dict[str, Any] = json.loads(render(load_definition(), task_substitutions(ARNS)))
    return definition


def states() -> dict[str, dict[str, Any]]:
    return dict(iter_states(rendered()))


def test_asl_placeholders_are_exactly_the_task_functions() -> None:
    assert placeholders(load_definition()) == {function.placeholder for function in TASK_FUNCTIONS}


def test_asl_rendered_definition_has_no_structural_problem() -> None:
    assert validate(rendered()) == []


def test_asl_template_reports_unsubstituted_placeholders() -> None:
    problems = validate(json.loads(load_definition()))
    assert sorted(problems) == sorted(
        f"unsubstituted placeholder ${{{function.placeholder}}}" for function in TASK_FUNCTIONS
    )


def test_render_refuses_a_missing_value() -> None:
    substitutions = task_substitutions(ARNS)
    del substitutions["PriceFunctionArn"]
    with pytest.raises(RenderError, match="PriceFunctionArn"):
        render(load_definition(), substitutions)


def test_render_refuses_an_extra_value() -> None:
    substitutions = task_substitutions(ARNS) | {"OldFunctionArn": "arn:x"}
    with pytest.raises(RenderError, match="OldFunctionArn"):
        render(load_definition(), substitutions)


def test_render_escapes_values_for_json() -> None:
    text = render('{"Resource": "${Arn}"}', {"Arn": 'a"b\\c'})
    assert json.loads(text) == {"Resource": 'a"b\\c'}


def broken(change: str) -> dict[str, Any]:
    """The rendered definition with one deliberate fault."""
    definition = copy.deepcopy(rendered())
    top = definition["States"]
    inner = top["price-albums"]["ItemProcessor"]["States"]
    if change == "dangling-next":
        top["review-years"]["Next"] = "nowhere"
    elif change == "unreachable":
        top["orphan"] = {"Type": "Succeed", "Comment": "never entered"}
    elif change == "no-end":
        del top["store-results"]["End"]
    elif change == "next-and-end":
        top["store-results"]["Next"] = "record-failure"
    elif change == "no-comment":
        del inner["price-album"]["Comment"]
    elif change == "inner-dangling":
        inner["price-album"]["Catch"][0]["Next"] = "record-failure"
    elif change == "bad-start":
        definition["StartAt"] = "begin"
    elif change == "jsonata":
        definition["QueryLanguage"] = "JSONata"
    elif change == "terminal-with-next":
        top["duplicate-upload"]["Next"] = "review-years"
    return definition


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ("dangling-next", "review-years: Next 'nowhere' is not a state in this scope"),
        ("unreachable", "orphan: unreachable"),
        ("no-end", "store-results: needs exactly one of Next or End: true"),
        ("next-and-end", "store-results: needs exactly one of Next or End: true"),
        ("no-comment", "price-albums/price-album: no Comment"),
        (
            "inner-dangling",
            "price-albums/price-album: Next 'record-failure' is not a state in this scope",
        ),
        ("bad-start", "definition: StartAt 'begin' is not a state"),
        ("jsonata", "QueryLanguage must be JSONPath (moto stubs JSONata)"),
        ("terminal-with-next", "duplicate-upload: a Succeed state takes neither Next nor End"),
    ],
)
def test_validate_detects_a_fault(change: str, expected: str) -> None:
    assert expected in validate(broken(change))


def test_asl_state_names_come_from_the_names_module() -> None:
    known = {str(step) for step in names.Step} | {
        value for name, value in vars(names).items() if name.isupper() and isinstance(value, str)
    }
    assert set(states()) <= known


def test_asl_every_state_has_a_comment_and_the_machine_too() -> None:
    assert rendered()["Comment"]
    assert [name for name, state in states().items() if not state.get("Comment")] == []


@pytest.mark.parametrize(("state", "policy"), RETRY_POLICY_BY_STATE.items())
def test_asl_retry_equals_policy(state: str, policy: RetryPolicy) -> None:
    (retrier,) = states()[state]["Retry"]
    assert retrier == {
        "ErrorEquals": list(RETRYABLE_ERRORS),
        "MaxAttempts": policy.retries,
        "IntervalSeconds": policy.interval_seconds,
        "BackoffRate": policy.backoff_rate,
        "MaxDelaySeconds": policy.max_delay_seconds,
    }


def test_asl_every_task_retries() -> None:
    tasks = {name for name, state in states().items() if state["Type"] == "Task"}
    assert tasks == set(RETRY_POLICY_BY_STATE)


def test_asl_map_runs_agents_with_policy_concurrency() -> None:
    assert states()["price-albums"]["MaxConcurrency"] == AGENT_CONCURRENCY


def test_asl_review_timeout_comes_from_the_extract_output() -> None:
    review = states()["review-years"]
    assert "TimeoutSeconds" not in review
    assert review["TimeoutSecondsPath"] == "$.extraction.review_timeout_seconds"
    assert review["Resource"] == "arn:aws:states:::lambda:invoke.waitForTaskToken"
    assert review["Parameters"]["Payload"]["token.$"] == "$$.Task.Token"
    assert review["Catch"][0]["ErrorEquals"] == ["States.Timeout"]


def test_asl_every_failure_outside_the_map_is_recorded() -> None:
    top = rendered()["States"]
    for name, state in top.items():
        if state["Type"] not in {"Task", "Map"} or name == names.RECORD_FAILURE:
            continue
        last = state["Catch"][-1]
        assert (last["ErrorEquals"], last["Next"]) == (["States.ALL"], names.RECORD_FAILURE), name
        assert last["ResultPath"] == "$.failure", name


def test_asl_task_results_never_overwrite_the_event() -> None:
    # The failure handler derives the upload id from the event at the root of the state.
    top = rendered()["States"]
    for name, state in top.items():
        if state["Type"] in {"Task", "Map"} and name != names.Step.STORE:
            assert state.get("ResultPath", "$") != "$", name


def test_asl_pattern_literals_name_step_functions() -> None:
    price = states()["price-albums"]["ItemSelector"]
    store = states()["store-results"]["Parameters"]
    assert price["pattern"] == store["pattern"] == Pattern.STEP_FUNCTIONS.value


def test_asl_payload_keys_match_the_domain_models() -> None:
    def keys(template: dict[str, Any]) -> set[str]:
        return {key.removesuffix(".$") for key in template}

    assert keys(states()["price-albums"]["ItemSelector"]) == set(PriceRequest.model_fields)
    assert keys(states()["store-results"]["Parameters"]) == set(StoreRequest.model_fields)
    assert keys(states()["price-album-failed"]["Parameters"]) <= set(PriceEstimate.model_fields)


def test_asl_error_estimate_is_a_valid_price_estimate() -> None:
    parameters = states()["price-album-failed"]["Parameters"]
    sample = {"album": {"slot": 4}, "failure": {"Error": "TransientError", "Cause": "{}"}}
    values = {
        key.removesuffix(".$"): resolve(sample, value) if key.endswith(".$") else value
        for key, value in parameters.items()
    }
    estimate = PriceEstimate.model_validate(values)
    assert (estimate.slot, estimate.amount, estimate.error) == (4, None, "TransientError")


def resolve(document: dict[str, Any], path: str) -> Any:
    """A dotted JSONPath such as ``$.album.slot`` (all this test needs)."""
    value: Any = document
    for part in path.removeprefix("$.").split("."):
        value = value[part]
    return value


@pytest.mark.parametrize("function", TASK_FUNCTIONS, ids=lambda function: function.name)
def test_task_function_handler_exists(function: Any) -> None:
    module_name, _, attribute = function.handler.rpartition(".")
    assert callable(getattr(importlib.import_module(module_name), attribute))


@pytest.mark.skipif(
    shutil.which("node") is None or not VALIDATOR.exists(),
    reason="node_modules/.bin/asl-validator is absent: run `make setup` (npm ci) to install it",
)
@pytest.mark.parametrize("source", ["template", "rendered"])
def test_asl_passes_the_npm_asl_validator(source: str) -> None:
    text = load_definition() if source == "template" else json.dumps(rendered())
    result = subprocess.run(
        [str(VALIDATOR), "--json-definition", text],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
