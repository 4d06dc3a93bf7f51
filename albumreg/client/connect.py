"""One way to reach a running system: find its target, point boto3 at it, build the adapters.

The CLI commands, the benches and the dashboard all talk to the local cloud or a deployed stack
through the handlers' own adapters (``handlers.wiring.Dependencies``), so a review submitted
from the terminal takes the same path as one from the dashboard. ``connect`` is where the
target is found, its endpoints exported and its reachability checked, so every caller fails
with the same message that says how to start the local cloud or deploy.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
from botocore.exceptions import BotoCoreError, ClientError

from albumreg.client.target import Target, TargetError, check_reachable, load_target
from handlers.adapters.metrics_collector import MetricsCollector, deployed_settings
from handlers.config import Settings
from handlers.wiring import Dependencies


@dataclass(frozen=True)
class Connection:
    """A running system and the adapters that reach it; the collector is built on first use."""

    target: Target
    deps: Dependencies

    def client(self, service: str) -> Any:
        """A boto3 client for ``service`` on this target (shared with the adapters)."""
        return self.deps.client(service)

    @functools.cached_property
    def collector(self) -> MetricsCollector:
        """Measures finished workflows as the collector Lambda does.

        On AWS the cost model needs the deployed function's memory size and architecture, so
        they are read from its configuration; the local cloud runs with the target's settings.

        Raises:
            TargetError: the deployed function's configuration cannot be read.
        """
        return MetricsCollector.from_clients(
            self.deps.client, self._collector_settings(), self.deps.clock, region=self.target.region
        )

    def _collector_settings(self) -> Settings:
        if self.target.is_local:
            return self.deps.settings
        function = self.target.durable_function
        try:
            return deployed_settings(self.client("lambda"), function, self.deps.settings)
        except (BotoCoreError, ClientError) as exc:
            raise TargetError(
                f"cannot read the deployed function {function!r} ({exc}); check the AWS "
                "credentials and Region with `albumreg doctor --aws`, or deploy with `pulumi up`"
            ) from exc


def connect(
    env_file: Path | None = None,
    *,
    target: Target | None = None,
    session: boto3.session.Session | None = None,
    probe: bool = True,
) -> Connection:
    """Find the running system (or use ``target``) and build the adapters that reach it.

    Exports the target's endpoints and region first (``Target.apply_to_environment``), so every
    boto3 client made afterwards, here or by the caller, talks to the same system.

    Args:
        env_file: the local cloud's env file; found as ``load_target`` says when None.
        target: an already loaded target; ``env_file`` is ignored then.
        session: the boto3 session every client is built from (the dashboard bench passes one
            that counts calls); a new one in the target's Region by default.
        probe: check that a local cloud still answers before anything is read from it
            (``albumreg doctor`` reports that check itself).

    Raises:
        TargetError: no system was found, or the local cloud does not answer; the message says
            how to start it with ``albumreg local`` or deploy it with ``pulumi up``.
    """
    found = target if target is not None else load_target(env_file)
    found.apply_to_environment()
    if probe:
        check_reachable(found)
    chosen = session if session is not None else boto3.session.Session(region_name=found.region)
    return Connection(found, Dependencies(found.settings(), session=chosen))
