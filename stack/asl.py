"""The state machine definition as data: load the ASL file, substitute ARNs, check its structure.

Pure (standard library and ``handlers.domain`` names only): the Pulumi stack renders the ASL
inside an ``apply`` and the local cloud renders the same file, so this module must never import
Pulumi, boto3 or Lambda handler code.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

DEFINITION_PATH = Path(__file__).with_name("album_registration.asl.json")

PLACEHOLDER = re.compile(r"\$\{([A-Za-z][A-Za-z0-9]*)\}")
"""``${Name}`` tokens; JSONPath (``$.x``, ``$$.x``) never has a brace after the dollar."""

TERMINAL_TYPES = frozenset({"Succeed", "Fail"})
STATE_TYPES = frozenset({"Task", "Pass", "Choice", "Wait", "Succeed", "Fail", "Parallel", "Map"})


@dataclass(frozen=True)
class TaskFunction:
    """One Lambda function the state machine invokes.

    Attributes:
        name: logical name, also the suffix of the deployed function's name.
        handler: import path of the handler, as Lambda's ``Handler`` setting spells it.
        placeholder: the ``${...}`` token in the ASL that receives the function's ARN.
    """

    name: str
    handler: str
    placeholder: str


TASK_FUNCTIONS: tuple[TaskFunction, ...] = (
    TaskFunction("extract-albums", "handlers.step_functions.extract_albums", "ExtractFunctionArn"),
    TaskFunction(
        "request-review", "handlers.step_functions.request_review", "RequestReviewFunctionArn"
    ),
    TaskFunction(
        "record-review-timeout",
        "handlers.step_functions.record_review_timeout",
        "RecordReviewTimeoutFunctionArn",
    ),
    TaskFunction(
        "record-rejection", "handlers.step_functions.record_rejection", "RecordRejectionFunctionArn"
    ),
    TaskFunction("price-album", "handlers.step_functions.price_album", "PriceFunctionArn"),
    TaskFunction("store-results", "handlers.step_functions.store_results", "StoreFunctionArn"),
    TaskFunction(
        "record-failure", "handlers.step_functions.record_failure", "RecordFailureFunctionArn"
    ),
)
"""Every task function: the Pulumi stack and the local runner deploy exactly these.

Handler paths are strings so that the stack can read this table without importing Lambda code.
"""


class RenderError(ValueError):
    """The substitutions do not match the placeholders of the definition."""


def load_definition(path: Path = DEFINITION_PATH) -> str:
    """The ASL template as text, placeholders still in it."""
    return path.read_text(encoding="utf-8")


def placeholders(definition_text: str) -> set[str]:
    """Names of the ``${...}`` tokens in a definition."""
    return set(PLACEHOLDER.findall(definition_text))


def render(definition_text: str, substitutions: Mapping[str, str]) -> str:
    """Replace every ``${Name}`` with its value, escaped for a JSON string.

    A missing value would deploy a state machine that fails at its first task, and an extra one
    usually means a renamed placeholder, so both are refused before anything is deployed.

    Raises:
        RenderError: a placeholder has no value, or a value has no placeholder.
    """
    wanted = placeholders(definition_text)
    missing = sorted(wanted - substitutions.keys())
    extra = sorted(substitutions.keys() - wanted)
    if missing or extra:
        raise RenderError(f"placeholders missing a value: {missing}; values never used: {extra}")

    def value(match: re.Match[str]) -> str:
        return json.dumps(substitutions[match.group(1)])[1:-1]

    return PLACEHOLDER.sub(value, definition_text)


def task_substitutions(arns: Mapping[str, str]) -> dict[str, str]:
    """Placeholder values from the ARNs of the task functions, keyed by logical name."""
    return {function.placeholder: arns[function.name] for function in TASK_FUNCTIONS}


def validate(definition: Mapping[str, Any]) -> list[str]:
    """Structural problems of a parsed definition; an empty list means none were found.

    Checks what ``CreateStateMachine`` would only reveal at deploy time or, worse, at run time:
    dangling ``Next`` targets, unreachable states, states that neither continue nor end, Map
    processors with the same faults, missing comments, JSONata, unsubstituted placeholders.
    """
    problems = [f"unsubstituted placeholder ${{{name}}}" for name in _placeholders_in(definition)]
    if definition.get("QueryLanguage", "JSONPath") != "JSONPath":
        problems.append("QueryLanguage must be JSONPath (moto stubs JSONata)")
    problems += _validate_scope("", definition)
    return problems


def _validate_scope(scope: str, machine: Mapping[str, Any]) -> list[str]:
    """Check one set of states (the top level, or the processor of a Map) on its own."""
    states = machine.get("States")
    start = machine.get("StartAt")
    if not isinstance(states, dict) or not states:
        return [f"{scope or 'definition'}: no States"]
    problems: list[str] = []
    if start not in states:
        problems.append(f"{scope or 'definition'}: StartAt {start!r} is not a state")
    for name, state in states.items():
        where = f"{scope}{name}"
        problems += _validate_state(where, state, states)
        for processor_key in ("ItemProcessor", "Iterator"):
            if processor_key in state:
                problems += _validate_scope(f"{where}/", state[processor_key])
        for index, branch in enumerate(state.get("Branches", [])):
            problems += _validate_scope(f"{where}[{index}]/", branch)
    reachable = _reachable(start, states) if isinstance(start, str) and start in states else set()
    problems += [f"{scope}{name}: unreachable" for name in states if name not in reachable]
    return problems


def _validate_state(where: str, state: Mapping[str, Any], states: Mapping[str, Any]) -> list[str]:
    problems: list[str] = []
    kind = state.get("Type")
    if kind not in STATE_TYPES:
        problems.append(f"{where}: unknown Type {kind!r}")
    if not state.get("Comment"):
        problems.append(f"{where}: no Comment")
    if state.get("QueryLanguage", "JSONPath") != "JSONPath":
        problems.append(f"{where}: QueryLanguage must be JSONPath")
    problems += [
        f"{where}: Next {target!r} is not a state in this scope"
        for target in _targets(state)
        if target not in states
    ]
    has_next, ends = "Next" in state, state.get("End") is True
    if kind in TERMINAL_TYPES or kind == "Choice":
        if has_next or "End" in state:
            problems.append(f"{where}: a {kind} state takes neither Next nor End")
        if kind == "Choice" and not state.get("Choices"):
            problems.append(f"{where}: a Choice needs Choices")
    elif has_next == ends:
        problems.append(f"{where}: needs exactly one of Next or End: true")
    if kind == "Map" and not ("ItemProcessor" in state or "Iterator" in state):
        problems.append(f"{where}: a Map needs an ItemProcessor")
    return problems


def _targets(state: Mapping[str, Any]) -> Iterator[str]:
    """Every state name this state can hand over to."""
    if "Next" in state:
        yield state["Next"]
    if "Default" in state:
        yield state["Default"]
    for rule in state.get("Choices", []):
        yield rule.get("Next")
    for catcher in state.get("Catch", []):
        yield catcher.get("Next")


def _reachable(start: str, states: Mapping[str, Any]) -> set[str]:
    seen: set[str] = set()
    pending = [start]
    while pending:
        name = pending.pop()
        if name in seen or name not in states:
            continue
        seen.add(name)
        pending.extend(_targets(states[name]))
    return seen


def _placeholders_in(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield from PLACEHOLDER.findall(value)
    elif isinstance(value, Mapping):
        for item in value.values():
            yield from _placeholders_in(item)
    elif isinstance(value, list):
        for item in value:
            yield from _placeholders_in(item)


def iter_states(definition: Mapping[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    """Every state as ``(name, state)``, those of Map processors and Parallel branches included."""
    for name, state in definition.get("States", {}).items():
        yield name, state
        for processor_key in ("ItemProcessor", "Iterator"):
            if processor_key in state:
                yield from iter_states(state[processor_key])
        for branch in state.get("Branches", []):
            yield from iter_states(branch)
