"""Corrections to in-process moto where it differs from AWS in ways the workflow relies on.

Each is a context manager restoring what it replaced, used by tests and the local cloud; Lambda
code never imports this module.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from moto.cloudwatch.models import CloudWatchBackend
from moto.core.model_instances import model_data
from moto.dynamodb.responses import DynamoHandler
from moto.stepfunctions.parser.asl.component import eval_component
from moto.stepfunctions.parser.asl.component.eval_component import EvalComponent
from moto.stepfunctions.parser.asl.eval.callback.callback import (
    CallbackOutcome,
    CallbackPoolManager,
)

_REQUESTS = threading.RLock()
"""Re-entrant: a request never waits on itself if moto dispatches one inside another."""

_TOKENS = threading.Lock()

_HEAP_KEYS = threading.Lock()
_HEAP_KEY_ATTRIBUTE = "_EvalComponent__heap_key"
"""Where moto keeps a component's key: ``EvalComponent.__heap_key``, name-mangled."""


@contextmanager
def serialized_dynamodb() -> Iterator[None]:
    """Take moto's DynamoDB requests one at a time until the block ends.

    DynamoDB applies each request atomically; moto's backend is not thread-safe: its
    ``transact_write_items`` deep-copies the table to roll back, and a write from another thread
    during the copy raises ``RuntimeError: dictionary changed size during iteration``. Both
    orchestrators' handlers run as threads of one process here. Patches the request handler
    class, so it covers ``mock_aws`` and a ``ThreadedMotoServer`` in this process alike.
    """
    original = DynamoHandler.call_action

    def call_action(self: DynamoHandler) -> Any:
        with _REQUESTS:
            return original(self)

    DynamoHandler.call_action = call_action  # type: ignore[method-assign]
    try:
        yield
    finally:
        DynamoHandler.call_action = original  # type: ignore[method-assign]


class _Untracked(list[Any]):
    """A list that keeps nothing: what moto appends each new model instance to, made harmless."""

    def append(self, instance: Any) -> None:
        """Drop the instance; the backend itself holds the live ones."""


@contextmanager
def untracked_dynamodb_models() -> Iterator[None]:
    """Stop moto from keeping every DynamoDB item and table copy it ever made, until the end.

    moto appends each model instance it creates to a class-level list, the items of every
    transaction's table copy included. Only moto's dashboard (``/moto-api/data.json``) reads
    these lists; the tables themselves live in the backend. Without this, memory and garbage
    collection grow with table size times transactions (11 GB after 100 uploads through both
    workflows).
    """
    classes = list(model_data["dynamodb"].values())
    kept = {model: model.instances_tracked for model in classes}  # type: ignore[attr-defined]
    for model in classes:
        model.instances_tracked = _Untracked()  # type: ignore[attr-defined]
    try:
        yield
    finally:
        for model, instances in kept.items():
            model.instances_tracked = instances  # type: ignore[attr-defined]


@contextmanager
def single_use_task_tokens() -> Iterator[None]:
    """Refuse a second outcome for a task token, as Step Functions does, until the block ends.

    moto's interpreter accepts ``SendTaskSuccess`` for a completed task again and reports
    success, so two reviewers could both "win" one review. A used token is then unknown to
    every execution, so moto answers ``InvalidToken``, one of the codes the review gateway reads
    as "the workflow no longer waits for this review". (moto's own ``TaskDoesNotExist`` branch
    cannot be used: it fails to build the error it raises.)
    """
    original = CallbackPoolManager.notify

    def notify(self: CallbackPoolManager, callback_id: str, outcome: CallbackOutcome) -> bool:
        with _TOKENS:
            endpoint = self.get(callback_id)
            if endpoint is not None and endpoint.get_outcome() is not None:
                return False
            return original(self, callback_id, outcome)

    CallbackPoolManager.notify = notify  # type: ignore[method-assign]
    try:
        yield
    finally:
        CallbackPoolManager.notify = original  # type: ignore[method-assign]


@contextmanager
def stable_heap_keys() -> Iterator[None]:
    """Give each ASL component one heap key, however many threads ask first, until the end.

    A Retrier counts attempts in the evaluating frame's heap under its component's key
    (``MaxAttemptsDecl`` and ``BackoffRateDecl`` in
    ``moto/stepfunctions/parser/asl/component/common/retry/``). moto creates that key lazily
    and unlocked (``EvalComponent.heap_key`` in ``.../asl/component/eval_component.py``), and
    a Map's iterations share one parsed component while running in parallel threads. When
    several iterations fail at once, a thread switched out between moto's check and its
    assignment makes a second key; an iteration that counted under the key that lost then
    finds no count and gets one more attempt than ``MaxAttempts``. Step Functions retries
    each iteration's state at most ``MaxAttempts`` times ("Retrying after an error", Step
    Functions Developer Guide). The key is created once under a lock; keys already made are
    kept.
    """
    original = EvalComponent.__dict__["heap_key"]

    def heap_key(self: EvalComponent) -> str:
        key: str | None = getattr(self, _HEAP_KEY_ATTRIBUTE)
        if key is None:
            with _HEAP_KEYS:
                key = getattr(self, _HEAP_KEY_ATTRIBUTE)
                if key is None:
                    # moto's own key source, looked up at call time as moto does.
                    key = eval_component.long_uid()  # type: ignore[attr-defined]
                    setattr(self, _HEAP_KEY_ATTRIBUTE, key)
        return key

    EvalComponent.heap_key = property(heap_key)  # type: ignore[assignment,method-assign]
    try:
        yield
    finally:
        EvalComponent.heap_key = original  # type: ignore[method-assign]


_METRIC_QUERIES = threading.Lock()


def _metrics_of(backend: CloudWatchBackend, namespace: str) -> list[Any]:
    return [d for d in CloudWatchBackend.get_all_metrics(backend) if d.namespace == namespace]


@contextmanager
def namespaced_metric_queries() -> Iterator[None]:
    """Keep each ``GetMetricData`` query to its own namespace until the block ends.

    CloudWatch matches a ``MetricStat`` on namespace, name and dimensions. moto (5.2.5) drops
    the namespace as soon as the query names dimensions, so the two patterns' namespaces,
    whose metrics share names and the ``Service`` dimension, would read as one. Each query is
    answered on its own over the metrics of its namespace only. Patches the backend class, so
    it covers ``mock_aws`` and a ``ThreadedMotoServer`` in this process alike.
    """
    original = CloudWatchBackend.get_metric_data

    def get_metric_data(
        self: CloudWatchBackend, queries: list[dict[str, Any]], *args: Any, **kwargs: Any
    ) -> list[dict[str, Any]]:
        results: list[dict[str, Any]] = []
        for query in queries:
            namespace = query.get("MetricStat", {}).get("Metric", {}).get("Namespace")
            if namespace is None:
                results += original(self, [query], *args, **kwargs)
                continue
            with _METRIC_QUERIES:
                self.get_all_metrics = functools.partial(  # type: ignore[method-assign]
                    _metrics_of, self, namespace
                )
                try:
                    results += original(self, [query], *args, **kwargs)
                finally:
                    del self.get_all_metrics
        return results

    CloudWatchBackend.get_metric_data = get_metric_data  # type: ignore[method-assign]
    try:
        yield
    finally:
        CloudWatchBackend.get_metric_data = original  # type: ignore[method-assign]
