"""HTTP for the pricing client: urllib3 GETs with timeouts, one quick retry and a meter per agent.

A fault that may pass (5xx, 429, timeout, connection error) is retried once inside the request
and then raised as ``PricingUnavailableError``, a ``TransientError`` the orchestrator retries
(the rule in ``handlers.domain.policy``); a refusal is a ``PricingError`` the agent reports.
Runs inside Lambda, so it uses urllib3 (already there as a botocore dependency) and nothing from
the local tooling. The token lives in one header and never in a log line, a repr or an error.
"""

from __future__ import annotations

import email.utils
import json
import logging
import random
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

import urllib3
from urllib3.exceptions import HTTPError, NewConnectionError, ProtocolError
from urllib3.exceptions import TimeoutError as Urllib3TimeoutError

from handlers.domain.errors import PricingError, TransientError
from handlers.domain.policy import AGENT_CONCURRENCY, PRICING_BUDGET_SECONDS, RetryPolicy

PRICING_CONNECT_TIMEOUT_SECONDS = 3.0
PRICING_READ_TIMEOUT_SECONDS = 5.0
"""One HTTP call to the pricing API; ``PRICING_BUDGET_SECONDS`` bounds an attempt's calls."""

PRICING_HTTP_RETRY = RetryPolicy(
    retries=1, interval_seconds=1, backoff_rate=2.0, max_delay_seconds=1
)
"""One quick retry of a GET inside the request (a jittered 0.5-1 s); ``PRICE_RETRY`` does the
rest, as a step retry the orchestrator bills and records."""

PRICING_MAX_RETRY_AFTER_SECONDS = 2.0
"""A ``Retry-After`` up to this is waited out inside the request; a longer one ends the attempt
at once and leaves the wait to the orchestrator's backoff."""

logger = logging.getLogger(__name__)

HTTP_OK = 200
HTTP_TOO_MANY_REQUESTS = 429
HTTP_SERVER_ERROR = 500
TIMEOUT = "timeout"

_TOKEN_CHARS = re.compile(r"[!-~]+")


class PricingUnavailableError(TransientError):
    """The API is unavailable for now (5xx, 429, timeout, no connection) after the quick retry.

    Transient: the agent lets it through, so the orchestrator retries the agent with
    ``PRICE_RETRY``. Its name is listed in ``RETRYABLE_ERRORS`` and the ASL's Retry.
    """


class PricingRejectedError(PricingError):
    """The API refused the request with a 4xx other than 429: retrying cannot help.

    Attributes:
        status: the HTTP status code.
    """

    def __init__(self, message: str, status: int) -> None:
        super().__init__(message)
        self.status = status


class PricingResponseError(PricingError):
    """A 200 response whose body is not the JSON the client expects."""


class Token:
    """A secret that prints as ``***``, so a stray log or traceback cannot leak it."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        # Visible ASCII only: nothing that could end the header or hide in a log line.
        if not _TOKEN_CHARS.fullmatch(value):
            raise ValueError("token must be visible ASCII without spaces")
        self._value = value

    def reveal(self) -> str:
        """The raw token, for the one header that needs it."""
        return self._value

    def __repr__(self) -> str:
        return "Token('***')"

    __str__ = __repr__


@dataclass
class Meter:
    """What one agent spent on HTTP, for the cost model. One per estimate: never shared.

    Attributes:
        requests: HTTP attempts sent, retries included.
        retries: attempts that repeated an earlier one.
        deadline: monotonic time after which no new attempt or backoff starts.
    """

    deadline: float
    requests: int = 0
    retries: int = 0


@dataclass(frozen=True)
class Timeouts:
    """Connect and read timeouts of one attempt, in seconds."""

    connect: float = PRICING_CONNECT_TIMEOUT_SECONDS
    read: float = PRICING_READ_TIMEOUT_SECONDS


@dataclass(frozen=True)
class RetryRules:
    """How hard one agent attempt tries before it gives the fault to the orchestrator.

    Attributes:
        policy: attempts and backoff per request (one quick retry).
        budget_seconds: wall-clock budget of one attempt, across all its requests.
        max_retry_after_seconds: a longer ``Retry-After`` is not waited out in the request.
    """

    policy: RetryPolicy = PRICING_HTTP_RETRY
    budget_seconds: float = PRICING_BUDGET_SECONDS
    max_retry_after_seconds: float = PRICING_MAX_RETRY_AFTER_SECONDS


def new_pool() -> urllib3.PoolManager:
    """One connection pool per process, shared by the concurrent agents (it is thread-safe).

    Sized so six agents keep their keep-alive connections; urllib3's own retries are off
    because the transport owns the retry budget.
    """
    return urllib3.PoolManager(maxsize=AGENT_CONCURRENCY, retries=False)


def parse_retry_after(value: str | None, now: datetime) -> float | None:
    """Seconds to wait from a ``Retry-After`` header: delta-seconds or an HTTP date."""
    if value is None or not value.strip():
        return None
    text = value.strip()
    try:
        return max(0.0, float(text))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - now).total_seconds())


@dataclass
class Transport:
    """GETs JSON from one base URL with the retry rules; safe to share between threads.

    Attributes:
        base_url: scheme and host (and optional path prefix), without a trailing slash.
        token: the API token, sent as ``Authorization: Discogs token=...``.
        user_agent: Discogs requires an identifying User-Agent.
        pool: the shared urllib3 pool.
        timeouts: per-attempt connect and read timeouts.
        rules: retry policy, budget and ``Retry-After`` ceiling.
        sleep: injected so tests need not wait out backoffs.
        monotonic: injected clock for deadlines and budgets.
        rng: jitter source; ``random.Random`` methods are safe to call from several threads.
    """

    base_url: str
    token: Token = field(repr=False)
    user_agent: str
    pool: urllib3.PoolManager = field(default_factory=new_pool, repr=False)
    timeouts: Timeouts = Timeouts()
    rules: RetryRules = RetryRules()
    sleep: Callable[[float], None] = field(default=time.sleep, repr=False)
    monotonic: Callable[[], float] = field(default=time.monotonic, repr=False)
    rng: random.Random = field(default_factory=random.Random, repr=False)

    def __post_init__(self) -> None:
        self.base_url = self.base_url.rstrip("/")

    def meter(self) -> Meter:
        """A fresh meter whose deadline is one budget from now."""
        return Meter(deadline=self.monotonic() + self.rules.budget_seconds)

    def get_json(self, path: str, params: Mapping[str, str | int], meter: Meter) -> Any:
        """GET ``path`` and return the decoded JSON body, retrying what is worth retrying.

        Raises:
            PricingRejectedError: a 4xx other than 429 (never retried).
            PricingUnavailableError: the quick retry or the budget spent, or a ``Retry-After``
                too long to wait in the request (transient: the orchestrator retries).
            PricingResponseError: a 200 whose body is not JSON.
            PricingError: a TLS, proxy or URL fault that no retry can fix.
        """
        url = f"{self.base_url}{path}"
        if params:
            url = f"{url}?{urlencode(params)}"
        headers = {
            "Authorization": f"Discogs token={self.token.reveal()}",
            "User-Agent": self.user_agent,
            "Accept": "application/json",
        }
        attempt = 0
        last = "no attempt"
        while True:
            remaining = meter.deadline - self.monotonic()
            if remaining <= 0:
                raise _budget_spent(path, last, attempt)
            attempt += 1
            meter.requests += 1
            meter.retries += int(attempt > 1)
            status, body, reason, retry_after = self._attempt(url, headers, remaining)
            if status == HTTP_OK:
                return _decode(path, body)
            if (
                status is not None
                and status != HTTP_TOO_MANY_REQUESTS
                and status < HTTP_SERVER_ERROR
            ):
                raise PricingRejectedError(f"GET {path}: HTTP {status}", status)
            if reason == TIMEOUT and remaining < self.timeouts.read:
                # The budget, not the server, cut this attempt short: report what went before.
                raise _budget_spent(path, last if attempt > 1 else reason, attempt)
            last = reason
            delay = self._delay(path, attempt, retry_after)
            if attempt > self.rules.policy.retries:
                raise PricingUnavailableError(f"GET {path}: {reason} after {attempt} attempts")
            if self.monotonic() + delay >= meter.deadline:
                raise _budget_spent(path, reason, attempt)
            logger.info("pricing GET %s: %s, retry %d in %.2f s", path, reason, attempt, delay)
            self.sleep(delay)

    def _delay(self, path: str, attempt: int, retry_after: float | None) -> float:
        """The server's ``Retry-After`` (429, or a 503 that sends one), else exponential backoff."""
        if retry_after is None:
            return self._backoff(attempt)
        if retry_after > self.rules.max_retry_after_seconds:
            raise PricingUnavailableError(
                f"GET {path}: rate limited for {retry_after:.0f} s, longer than "
                f"{self.rules.max_retry_after_seconds:.0f} s"
            )
        return retry_after

    def _attempt(
        self, url: str, headers: Mapping[str, str], remaining: float
    ) -> tuple[int | None, bytes, str, float | None]:
        """One GET: (status or None on a network fault, body, reason, Retry-After seconds)."""
        # Never wait past the budget, even if the server accepts and then stalls.
        timeout = urllib3.Timeout(
            connect=min(self.timeouts.connect, remaining), read=min(self.timeouts.read, remaining)
        )
        try:
            response = self.pool.request(
                "GET", url, headers=dict(headers), timeout=timeout, redirect=False, retries=False
            )
        except NewConnectionError:
            return None, b"", "connection failed", None
        except Urllib3TimeoutError:
            return None, b"", TIMEOUT, None
        except ProtocolError:
            return None, b"", "connection dropped", None
        except HTTPError as exc:
            # TLS, proxy or URL faults: repeating the same request cannot fix them.
            raise PricingError(f"GET: {type(exc).__name__}") from None
        retry_after = parse_retry_after(response.headers.get("Retry-After"), datetime.now(UTC))
        return response.status, response.data, f"HTTP {response.status}", retry_after

    def _backoff(self, attempt: int) -> float:
        """Exponential delay before the next attempt, with "equal jitter" to spread six agents."""
        base = self.rules.policy.delay_before(attempt)
        return base / 2 + self.rng.uniform(0, base / 2)


def _budget_spent(path: str, reason: str, attempts: int) -> PricingUnavailableError:
    return PricingUnavailableError(
        f"GET {path}: {reason}; pricing budget spent after {attempts} attempts"
    )


def _decode(path: str, body: bytes) -> Any:
    try:
        return json.loads(body)
    except ValueError as exc:
        raise PricingResponseError(f"GET {path}: response is not JSON") from exc
