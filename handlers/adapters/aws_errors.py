"""AWS SDK faults that may pass, by botocore's own standard retry rules, as ``TransientError``.

The AWS clients already retry inside the request with botocore's standard mode
(``handlers.wiring``); a throttling, 5xx or connection fault still left after that is the
orchestrator's to retry, with the workflow's policy. botocore's checkers decide what counts as
transient, so this module keeps no list of error codes of its own. Lambda code: imports botocore
and the domain errors only.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import ParamSpec, TypeVar

from botocore.exceptions import BotoCoreError, ClientError
from botocore.retries.standard import (
    OrRetryChecker,
    RetryContext,
    ThrottledRetryableChecker,
    TransientRetryableChecker,
)

from handlers.domain.errors import TransientError

P = ParamSpec("P")
R = TypeVar("R")

_STANDARD_MODE_TRANSIENT = OrRetryChecker(
    [TransientRetryableChecker(), ThrottledRetryableChecker()]
)
"""The checks of botocore's standard retry mode that need no service model: transient error
codes and statuses (500, 502, 503, 504), throttling codes, and connection errors."""


@dataclass(frozen=True)
class _Status:
    """The one field of an HTTP response botocore's status checks read."""

    status_code: int


def is_transient(error: Exception) -> bool:
    """True when botocore's standard retry mode would retry ``error``: it may pass.

    Args:
        error: what a boto3 call raised, after the client's own retries.
    """
    if isinstance(error, ClientError):
        status = error.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        context = RetryContext(
            attempt_number=1,
            parsed_response=error.response,
            http_response=_Status(int(status)) if status else None,
        )
    elif isinstance(error, BotoCoreError):
        context = RetryContext(attempt_number=1, caught_exception=error)
    else:
        return False
    return bool(_STANDARD_MODE_TRANSIENT.is_retryable(context))


def describe(error: Exception) -> str:
    """The error code of a ``ClientError``, else the exception's class name."""
    if isinstance(error, ClientError):
        return str(error.response.get("Error", {}).get("Code") or type(error).__name__)
    return type(error).__name__


def transient_aws_errors(method: Callable[P, R]) -> Callable[P, R]:
    """Raise a transient AWS fault of ``method`` as ``TransientError``; others pass unchanged.

    For adapter methods that a workflow step calls: the orchestrator then retries the step.
    """

    @functools.wraps(method)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return method(*args, **kwargs)
        except (ClientError, BotoCoreError) as error:
            if is_transient(error):
                raise TransientError(f"{method.__name__}: {describe(error)}") from error
            raise

    return wrapper
