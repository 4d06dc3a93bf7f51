"""Every retry, timeout, limit and concurrency number of the workflow, in one place.

The ASL file keeps literals so it stays readable in the console; a test holds them equal to
these. The durable workflow, the adapters and the Pulumi stack read them from here.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class RetryPolicy:
    """Bounded exponential backoff, expressed so both orchestrators can use it verbatim.

    Attributes:
        retries: attempts after the first one (ASL ``MaxAttempts``).
        interval_seconds: delay before the first retry (ASL ``IntervalSeconds``).
        backoff_rate: multiplier per retry (ASL ``BackoffRate``).
        max_delay_seconds: ceiling on one delay (ASL ``MaxDelaySeconds``).
    """

    retries: int
    interval_seconds: int
    backoff_rate: float
    max_delay_seconds: int

    @property
    def max_attempts(self) -> int:
        """Total attempts including the first: what the durable SDK calls ``max_attempts``."""
        return self.retries + 1

    def delay_before(self, retry: int) -> float:
        """Delay before retry number ``retry`` (1-based), capped, without jitter."""
        raw = self.interval_seconds * self.backoff_rate ** (retry - 1)
        return float(min(raw, self.max_delay_seconds))


ALBUMS_PER_IMAGE = 6
"""One photo shows six covers, in a 3x2 grid, numbered row by row as slots 1..6."""

AGENT_CONCURRENCY = 6
"""Price agents run all at once: ASL ``MaxConcurrency`` and durable ``max_concurrency``."""

DEFAULT_REVIEW_TIMEOUT_SECONDS = 3600
"""How long a workflow waits for a person before going on with the extracted data."""

DURABLE_EXECUTION_MARGIN_SECONDS = 24 * 3600
"""The durable execution timeout is the review timeout plus this, so review never outlives it."""

DURABLE_RETENTION_DAYS = 7
"""How long the durable service keeps a finished execution's history."""

EXTRACT_RETRY = RetryPolicy(retries=2, interval_seconds=2, backoff_rate=2.0, max_delay_seconds=30)
REVIEW_REQUEST_RETRY = RetryPolicy(
    retries=2, interval_seconds=1, backoff_rate=2.0, max_delay_seconds=10
)
PRICE_RETRY = RetryPolicy(retries=2, interval_seconds=1, backoff_rate=2.0, max_delay_seconds=10)
STORE_RETRY = RetryPolicy(retries=3, interval_seconds=1, backoff_rate=2.0, max_delay_seconds=10)

RETRYABLE_ERRORS: tuple[str, ...] = (
    "TransientError",
    "Lambda.ServiceException",
    "Lambda.AWSLambdaException",
    "Lambda.SdkClientException",
    "Lambda.TooManyRequestsException",
)
"""Error names worth retrying: our transient error class and Lambda's own service faults."""

MAX_IMAGE_BYTES = 20 * 1024 * 1024
"""Uploads larger than this are rejected before any model call."""

MAX_IMAGE_PIXELS = 40_000_000
"""Decompression-bomb guard: a larger image is rejected before it is decoded."""

VISION_LONG_EDGE_PX = 1568
"""Images are downscaled to this long edge before a vision call (Claude's own limit)."""

VISION_MAX_PAYLOAD_BYTES = 3_750_000
"""Largest image payload sent to Bedrock Converse (its per-image limit)."""

VISION_THROTTLE_RETRY = RetryPolicy(
    retries=3, interval_seconds=1, backoff_rate=2.0, max_delay_seconds=8
)
VISION_CORRECTIVE_RETRIES = 1
"""A malformed model answer is retried once with a corrective message, then flagged."""

PRICING_CONNECT_TIMEOUT_SECONDS = 3.0
PRICING_READ_TIMEOUT_SECONDS = 5.0
PRICING_HTTP_RETRY = RetryPolicy(
    retries=3, interval_seconds=1, backoff_rate=2.0, max_delay_seconds=8
)
PRICING_BUDGET_SECONDS = 30.0
"""Wall-clock budget of one agent's HTTP retries, so a slow API cannot stall the Map."""

PRICING_MAX_RETRY_AFTER_SECONDS = 10.0
"""A ``Retry-After`` longer than this is treated as an outage rather than waited out."""

LLM_AGENT_MAX_TURNS = 8
"""Upper bound on tool-use turns of the optional Bedrock pricing agent."""

TEXT_MAX_LENGTH = 200
"""Longest title or artist accepted from a model or a person."""

FIRST_YEAR = 1900
"""Earliest plausible release year; the latest is next year (pre-orders)."""
