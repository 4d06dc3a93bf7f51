"""The numbers the two orchestrators and the stack must agree on, and nothing else.

Here: the albums and agents the ASL's Map and the durable map share, the retry policies the
ASL's Retry and the durable retry strategies both apply (and the errors they retry), the review
timeout and the durable execution's margin and retention, EventBridge's delivery retries and
the dead-letter retention, and the in-handler budgets each Lambda timeout is derived from
(``stack/timeouts.py``). The ASL file keeps literals so it stays readable in the console;
``tests/unit/test_asl.py`` holds them equal to these. A number only one piece of code uses
lives beside that code: image limits in ``handlers.adapters.recognition.image``, HTTP timeouts
in ``handlers.adapters.pricing.transport``, the dashboard's in ``albumreg.dashboard.settings``.
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
# request, quickly (the HTTP pricing client with ``PRICING_HTTP_RETRY`` of
# ``handlers.adapters.pricing.transport``, waiting a short ``Retry-After``; the Bedrock
# recognizer with ``VISION_THROTTLE_RETRY``), or leaves the retry inside the request to
# botocore's own standard mode (AWS clients, configured in ``handlers.wiring``), then raises
# ``TransientError`` or a subclass. The ASL's Retry and the durable step's retry strategy repeat
# the step with the policies above; when their attempts run out, the ASL's Catch and the durable
# ``except StepError`` end the step the same way on both sides. A fault that cannot pass (not
# found, refused with 401/403, no match, a malformed answer) raises a domain error, or becomes
# an error estimate, at once.

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

# --- in-handler budgets: each Lambda's timeout is derived from them (stack/timeouts.py) ---

VISION_CONNECT_TIMEOUT_SECONDS = 5.0
VISION_READ_TIMEOUT_SECONDS = 30.0
"""One Converse call; a vision answer of six albums normally takes 2-10 seconds. Worst case
for one photo: 2 rounds (corrective retry) x 4 attempts x 30 s plus 7 s of backoff, ~250 s."""

VISION_THROTTLE_RETRY = RetryPolicy(
    retries=1, interval_seconds=1, backoff_rate=2.0, max_delay_seconds=1
)
"""The recognizer's one quick in-request retry of throttling; ``EXTRACT_RETRY`` does the rest."""

VISION_CORRECTIVE_RETRIES = 1
"""A malformed model answer is retried once with a corrective message, then flagged."""

PRICING_BUDGET_SECONDS = 30.0
"""Wall-clock budget of one agent attempt's HTTP calls, so a slow API cannot stall the Map."""

LLM_AGENT_MAX_TURNS = 8
"""Upper bound on tool-use turns of the optional Bedrock pricing agent."""

LLM_AGENT_READ_TIMEOUT_SECONDS = 30.0
"""One Converse turn of the pricing agent; Bedrock's own retries (standard mode) sit on top."""

AWS_CALLS_ALLOWANCE_SECONDS = 30
"""Time one Lambda invocation allows for its S3, DynamoDB and Secrets Manager calls."""

# --- event delivery (the Pulumi stack's EventBridge targets) ---

EVENT_DELIVERY_MAX_RETRIES = 8
"""EventBridge retries to start a workflow before the event goes to the dead-letter queue."""

EVENT_DELIVERY_MAX_AGE_SECONDS = 3600
"""An upload event older than this is not delivered any more: it goes to the dead-letter queue."""

DEAD_LETTER_RETENTION_SECONDS = 14 * 24 * 3600
"""Undelivered events are kept this long (the SQS maximum) for a person to replay."""
