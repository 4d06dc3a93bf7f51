"""How the cost per workflow moves with the pricing API's latency and with the review wait.

Pure: the measured mean usage of each pattern (METRICS ``usage`` of completed workflows) is
varied along one axis and costed again with ``handlers.domain.cost.workflow_cost``; the
crossing points of the two curves are the break-even points the report names.

- Price API latency. An agent waits for each of its requests one after the other (measured:
  METRICS ``pricing_requests``). In Step Functions each of the six agents is a Lambda invocation
  of its own, billed for its own wait; in the durable function the six agents are threads of
  one invocation, billed for the wall time once. The extra billed duration is the extra wait
  times the memory, on top of what the bench measured at its own latency.
- Review wait. A Standard state machine waiting on a task token is billed nothing while it
  waits; a durable execution's checkpointed data is retained for its whole duration plus the
  retention period (``Usage.durable_execution_days``), so its cost grows with the wait.
"""

from __future__ import annotations

import dataclasses
import itertools
import math
import statistics
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from handlers.domain.cost import RateCard, workflow_cost
from handlers.domain.policy import AGENT_CONCURRENCY, ALBUMS_PER_IMAGE
from handlers.domain.tenant import PATTERNS, Pattern
from handlers.domain.usage import Usage
from handlers.domain.workflow_metrics import StoredUsage, WorkflowMetrics

SECONDS_PER_DAY = 86_400
DAYS_PER_YEAR = 365

LATENCIES_S: tuple[float, ...] = tuple(round(0.1 * 10 ** (step / 10), 3) for step in range(21))
"""0.1 s to 10 s, ten points per decade."""

REVIEW_WAITS_S: tuple[float, ...] = tuple(
    round(60 * (7 * SECONDS_PER_DAY / 60) ** (step / 20)) for step in range(21)
)
"""One minute to seven days, evenly spaced on a log scale."""

WAITING_INVOCATIONS = {
    Pattern.STEP_FUNCTIONS: ALBUMS_PER_IMAGE,
    Pattern.DURABLE: math.ceil(ALBUMS_PER_IMAGE / AGENT_CONCURRENCY),
}
"""How many times one agent's wait is billed: once per agent (each is an invocation), or once
per round of agents running together as threads of the one durable invocation."""


@dataclass(frozen=True)
class Measured:
    """One pattern's mean completed workflow, as the sensitivity starts from it.

    Attributes:
        usage: mean billable quantities.
        memory_gb: the functions' memory, from billed GB-seconds over billed seconds.
        requests_per_agent: pricing API requests one agent made, one after the other.
        active_seconds: mean active duration (execution minus the human wait).
        price_latency_s: the pricing API latency the bench ran with.
    """

    usage: Usage
    memory_gb: Decimal
    requests_per_agent: float
    active_seconds: float
    price_latency_s: float


@dataclass(frozen=True)
class Point:
    """One pattern's cost per workflow at one value of the varied quantity."""

    pattern: Pattern
    x: float
    usd: float


def _mean(values: Sequence[Any]) -> float:
    return statistics.fmean(float(v) for v in values) if values else 0.0


def usage_from_values(pattern: Pattern, usages: Sequence[StoredUsage]) -> Usage:
    """The mean of METRICS ``usage`` values as one ``Usage`` (text fields from the first)."""
    fields: dict[str, Any] = {}
    for spec in dataclasses.fields(Usage):
        if spec.name == "pattern":
            continue
        present = [value for u in usages if (value := getattr(u, spec.name)) is not None]
        default = spec.default
        if isinstance(default, str) or default is None:
            fields[spec.name] = present[0] if present else default
        elif isinstance(default, Decimal):
            fields[spec.name] = Decimal(repr(_mean(present)))
        else:
            fields[spec.name] = round(_mean(present))
    return Usage(pattern=pattern, **fields)


def measured(
    pattern: Pattern, completed: Sequence[WorkflowMetrics], price_latency_s: float
) -> Measured | None:
    """The starting point of one pattern from its completed workflows' METRICS values."""
    usages = [w.usage for w in completed if w.usage is not None]
    if not usages:
        return None
    usage = usage_from_values(pattern, usages)
    billed_s = _mean([w.lambda_billed_ms or 0 for w in completed]) / 1000
    memory = usage.lambda_gb_seconds / Decimal(repr(billed_s)) if billed_s else Decimal(0)
    requests = _mean([w.pricing_requests for w in completed]) / ALBUMS_PER_IMAGE
    return Measured(
        usage=usage,
        memory_gb=memory,
        requests_per_agent=requests,
        active_seconds=_mean([w.active_seconds or 0 for w in completed]),
        price_latency_s=price_latency_s,
    )


def cost_at_latency(start: Measured, latency_s: float, rates: RateCard) -> float:
    """Cost per workflow if every pricing request took ``latency_s`` instead of the bench's."""
    usage = start.usage
    extra_s = (
        WAITING_INVOCATIONS[usage.pattern]
        * start.requests_per_agent
        * (latency_s - start.price_latency_s)
    )
    gb_seconds = max(Decimal(0), usage.lambda_gb_seconds + Decimal(repr(extra_s)) * start.memory_gb)
    varied = dataclasses.replace(usage, lambda_gb_seconds=gb_seconds)
    return float(workflow_cost(varied, rates).total)


def cost_at_review_wait(start: Measured, wait_s: float, rates: RateCard) -> float:
    """Cost per workflow if the person answered after ``wait_s`` seconds."""
    usage = start.usage
    if usage.pattern is Pattern.DURABLE:
        days = Decimal(repr((start.active_seconds + wait_s) / SECONDS_PER_DAY))
        usage = dataclasses.replace(usage, durable_execution_days=days)
    return float(workflow_cost(usage, rates).total)


def curve(
    starts: Mapping[Pattern, Measured],
    xs: Sequence[float],
    cost: Callable[[Measured, float, RateCard], float],
    rates: RateCard,
) -> list[Point]:
    """Each pattern's cost at each ``x``."""
    return [
        Point(pattern, x, cost(start, x, rates)) for pattern, start in starts.items() for x in xs
    ]


def break_even(points: Sequence[Point]) -> list[float]:
    """Where the two patterns' curves cross, interpolated linearly between neighbouring xs."""
    by_x: dict[float, dict[Pattern, float]] = {}
    for point in points:
        by_x.setdefault(point.x, {})[point.pattern] = point.usd
    xs = sorted(x for x, costs in by_x.items() if len(costs) == len(PATTERNS))
    gaps = [by_x[x][Pattern.STEP_FUNCTIONS] - by_x[x][Pattern.DURABLE] for x in xs]
    crossings = []
    for (x0, g0), (x1, g1) in itertools.pairwise(zip(xs, gaps, strict=True)):
        if g0 == 0:
            crossings.append(x0)
        elif g0 * g1 < 0:
            crossings.append(x0 + (x1 - x0) * g0 / (g0 - g1))
    if gaps and gaps[-1] == 0 and (not crossings or crossings[-1] != xs[-1]):
        crossings.append(xs[-1])
    return crossings


def cheaper_at(points: Sequence[Point], x: float) -> tuple[Pattern, float] | None:
    """Which pattern is cheaper at ``x`` and by how many dollars (None: no data or a tie)."""
    costs = {p.pattern: p.usd for p in points if p.x == x}
    if len(costs) < len(PATTERNS) or costs[Pattern.STEP_FUNCTIONS] == costs[Pattern.DURABLE]:
        return None
    winner = min(costs, key=lambda pattern: costs[pattern])
    return winner, max(costs.values()) - min(costs.values())


def describe(points: Sequence[Point], what: str, shown: Callable[[float], str]) -> str:
    """The break-even points of one curve in words, or why there is none in the range."""
    xs = sorted({p.x for p in points})
    if not xs:
        return f"{what}: no measured usage to vary."
    first, last = cheaper_at(points, xs[0]), cheaper_at(points, xs[-1])
    crossings = break_even(points)
    if not crossings:
        if first is None or last is None:
            return f"{what}: both patterns cost the same across {shown(xs[0])} to {shown(xs[-1])}."
        return (
            f"{what}: no break-even between {shown(xs[0])} and {shown(xs[-1])}; the cheaper one "
            f"throughout is {first[0].label}, by ${first[1]:.6f} at {shown(xs[0])} and by "
            f"${last[1]:.6f} at {shown(xs[-1])}{_beyond(points, xs, shown)}."
        )
    at = ", ".join(shown(x) for x in crossings)
    before = f"{first[0].label} is cheaper below it" if first else "they cost the same below it"
    after = f"{last[0].label} above it" if last else "the same above it"
    return f"{what}: the two break even at {at}: {before}, {after}."


def _beyond(points: Sequence[Point], xs: Sequence[float], shown: Callable[[float], str]) -> str:
    """Where the gap would close if the last stretch of the curves went on straight."""
    if len(xs) < 2:
        return ""
    gaps = []
    for x in xs[-2:]:
        found = cheaper_at(points, x)
        gaps.append(found[1] if found else 0.0)
    slope = (gaps[1] - gaps[0]) / (xs[-1] - xs[-2])
    if slope >= 0:
        return " (the gap widens)"
    return f" (going on straight, the two would meet near {shown(xs[-1] + gaps[1] / -slope)})"


def latency_label(seconds: float) -> str:
    """``0.25 s``."""
    return f"{seconds:g} s"


def wait_label(seconds: float) -> str:
    """``1 min``, ``3.5 h``, ``2 days``."""
    if seconds < 3600:
        return f"{seconds / 60:.3g} min"
    if seconds < SECONDS_PER_DAY:
        return f"{seconds / 3600:.3g} h"
    if seconds < DAYS_PER_YEAR * SECONDS_PER_DAY:
        return f"{seconds / SECONDS_PER_DAY:.3g} days"
    return f"{seconds / SECONDS_PER_DAY / DAYS_PER_YEAR:.3g} years"
