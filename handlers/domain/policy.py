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

# --- transient or permanent: the rule every adapter follows ---
#
# Retries belong to the orchestrators. An adapter that meets a fault which may pass (a 5xx,
# throttling or a 429, a timeout, a dropped connection) retries it at most once inside the
# request, quickly (the HTTP pricing client with ``PRICING_HTTP_RETRY``, waiting a short
# ``Retry-After``; the Bedrock recognizer with ``VISION_THROTTLE_RETRY``), or leaves the retry
# inside the request to botocore's own standard mode (AWS clients, configured in
# ``handlers.wiring``), then raises ``TransientError`` or a subclass. The ASL's
# Retry and the durable step's retry strategy repeat the step with the policies above; when
# their attempts run out, the ASL's Catch and the durable ``except StepError`` end the step the
# same way on both sides. A fault that cannot pass (not found, refused with 401/403, no match,
# a malformed answer) raises a domain error, or becomes an error estimate, at once.

RETRYABLE_ERRORS: tuple[str, ...] = (
    "TransientError",
    "PricingUnavailableError",
    "Lambda.ClientExecutionTimeoutException",
    "Lambda.ServiceException",
    "Lambda.AWSLambdaException",
    "Lambda.SdkClientException",
    "Lambda.TooManyRequestsException",
)
"""Error names the ASL's Retry lists: ``TransientError`` and each subclass by name (Step
Functions matches the name a Lambda raised, not its class), then Lambda's own service faults
as the Step Functions guide lists them ("Handle Lambda service exceptions",
https://docs.aws.amazon.com/step-functions/latest/dg/bp-lambda-serviceexception.html), with the
throttling error it names. The durable retry strategy retries ``TransientError`` and its
subclasses by class."""

MAX_IMAGE_BYTES = 20 * 1024 * 1024
"""Uploads larger than this are rejected before any model call."""

MAX_IMAGE_PIXELS = 40_000_000
"""Decompression-bomb guard: a larger image is rejected before it is decoded."""

VISION_LONG_EDGE_PX = 1568
"""Images are downscaled to this long edge before a vision call (Claude's own limit)."""

VISION_MAX_PAYLOAD_BYTES = 3_750_000
"""Largest image payload sent to Bedrock Converse (its per-image limit)."""

VISION_THROTTLE_RETRY = RetryPolicy(
    retries=1, interval_seconds=1, backoff_rate=2.0, max_delay_seconds=1
)
"""The recognizer's one quick in-request retry of throttling; ``EXTRACT_RETRY`` does the rest."""
VISION_CORRECTIVE_RETRIES = 1
"""A malformed model answer is retried once with a corrective message, then flagged."""

# --- recognition ---
MIN_IMAGE_EDGE_PX = 120
"""Images with a shorter edge than this cannot show six readable covers: rejected."""

VISION_CONNECT_TIMEOUT_SECONDS = 5.0
VISION_READ_TIMEOUT_SECONDS = 30.0
"""One Converse call; a vision answer of six albums normally takes 2-10 seconds. Worst case
for one photo: 2 rounds (corrective retry) x 4 attempts x 30 s plus 7 s of backoff, ~250 s."""

VISION_MAX_OUTPUT_TOKENS = 2048
"""Ceiling on the model's answer: six albums as tool input need a few hundred tokens."""

OCR_LONG_EDGE_PX = 1600
"""The local OCR reads a copy downscaled to this long edge: enough for cover text, and fast."""

OCR_DETECTION_LONG_EDGE_PX = 960
"""Text is located on a copy this size (40% faster than full size, same accuracy measured on
synthetic shelves); each line found is then read from the full-size photo."""

PRICING_CONNECT_TIMEOUT_SECONDS = 3.0
PRICING_READ_TIMEOUT_SECONDS = 5.0
PRICING_HTTP_RETRY = RetryPolicy(
    retries=1, interval_seconds=1, backoff_rate=2.0, max_delay_seconds=1
)
"""One quick retry of a GET inside the request (a jittered 0.5-1 s); ``PRICE_RETRY`` does the
rest, as a step retry the orchestrator bills and records."""

PRICING_BUDGET_SECONDS = 30.0
"""Wall-clock budget of one agent attempt's HTTP calls, so a slow API cannot stall the Map."""

PRICING_MAX_RETRY_AFTER_SECONDS = 2.0
"""A ``Retry-After`` up to this is waited out inside the request; a longer one ends the attempt
at once and leaves the wait to the orchestrator's backoff."""

LLM_AGENT_MAX_TURNS = 8
"""Upper bound on tool-use turns of the optional Bedrock pricing agent."""

# --- pricing agents ---
PRICING_SEARCH_PAGE_SIZE = 10
"""Search results one agent considers: the best matches come first, so more only costs time."""

LLM_AGENT_MAX_OUTPUT_TOKENS = 1024
"""Ceiling on one answer of the Bedrock pricing agent: a tool call needs a few dozen tokens."""

LLM_AGENT_READ_TIMEOUT_SECONDS = 30.0
"""One Converse turn of the pricing agent; Bedrock's own retries (standard mode) sit on top."""

TEXT_MAX_LENGTH = 200
"""Longest title or artist accepted from a model or a person."""

FIRST_YEAR = 1900
"""Earliest plausible release year; the latest is next year (pre-orders)."""

# --- event delivery and Lambda limits (the Pulumi stack) ---
EVENT_DELIVERY_MAX_RETRIES = 8
"""EventBridge retries to start a workflow before the event goes to the dead-letter queue."""

EVENT_DELIVERY_MAX_AGE_SECONDS = 3600
"""An upload event older than this is not delivered any more: it goes to the dead-letter queue."""

DEAD_LETTER_RETENTION_SECONDS = 14 * 24 * 3600
"""Undelivered upload events are kept this long (the SQS maximum) for a person to replay."""

AWS_CALLS_ALLOWANCE_SECONDS = 30
"""Time one Lambda invocation allows for its S3, DynamoDB and Secrets Manager calls."""

# --- dashboard ---
DASHBOARD_CACHE_TTL_SECONDS = 5
"""Listings in the dashboard are at most this old: a new review shows up within seconds."""

DASHBOARD_METRICS_TTL_SECONDS = 30
"""Execution timings change only when a workflow finishes: read histories at most this often."""

DASHBOARD_TIMED_EXECUTIONS = 50
"""Newest completed executions per pattern whose timings the comparison reads (and caches)."""

DASHBOARD_LISTING_LIMIT = 100
"""Newest uploads per pattern and status the albums page lists, and the success-rate window."""

DASHBOARD_OPEN_REVIEWS = 50
"""Open reviews listed per pattern; more than this waiting means the reviewers are behind."""

DASHBOARD_REVIEWS_PER_PAGE = 5
"""Review cards drawn at once: each one reads its image and both review items."""

DASHBOARD_THUMBNAIL_PX = 640
"""Long edge of the thumbnail the reviews page shows (the full photo stays in S3)."""

BATCH_GET_MAX_KEYS = 100
"""DynamoDB's limit of keys in one BatchGetItem request."""

BATCH_GET_ROUNDS = 3
"""Requests per batch of keys, when DynamoDB returns some unprocessed (throttled) keys."""
