"""The end-to-end scenarios against the local cloud, plus ``albumreg doctor`` on it.

One local cloud serves every scenario (each uploads under its own key) and they run at the
same time, so the suite waits for the slowest one (the review timeout) rather than their sum,
except the pricing outage, which switches the shared pricing API off and so runs alone after
them; each test then reports its own scenario's outcome. The scenarios themselves are in
``target_scenarios`` and run unchanged against AWS by ``make test-aws``.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from albumreg.cloud.local_cloud import CloudOptions, LocalCloud
from tests.e2e.target_scenarios import SCENARIOS
from tests.e2e.target_world import TargetWorld, cli_environment

pytestmark = pytest.mark.e2e

REVIEW_TIMEOUT_SECONDS = 30
"""Long enough for a scenario to act on the review, short enough to wait out in one."""


@pytest.fixture(scope="module")
def local_world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TargetWorld]:
    env_file = tmp_path_factory.mktemp("scenarios") / "local.env"
    options = CloudOptions(
        port_base=0, review_timeout_seconds=REVIEW_TIMEOUT_SECONDS, env_file=Path(env_file)
    )
    with LocalCloud(options) as cloud:
        assert cloud.pricing is not None
        world = TargetWorld(
            cloud.target,
            cli_environment({"ALBUMREG_ENV_FILE": str(env_file)}),
            review_timeout_seconds=REVIEW_TIMEOUT_SECONDS,
            pricing_admin_url=f"{cloud.pricing.url}/_admin/knobs",
            # Six scenarios at once, twelve workflows reading covers on two cores.
            settle_seconds=180.0,
        )
        yield world
        world.cleanup()


ALONE = ("pricing outage",)
"""Scenarios that change the shared local pricing API, so they run after the others."""


@pytest.fixture(scope="module")
def outcomes(local_world: TargetWorld) -> dict[str, BaseException | None]:
    """Every scenario's outcome: what it raised (a failure, a skip) or None."""

    def run(scenario: Callable[[TargetWorld], None]) -> BaseException | None:
        try:
            scenario(local_world)
        except BaseException as exc:  # a failure or a skip, re-raised by its own test
            return exc
        return None

    together = {name: s for name, s in SCENARIOS.items() if name not in ALONE}
    with ThreadPoolExecutor(max_workers=len(together)) as pool:
        futures = {name: pool.submit(run, scenario) for name, scenario in together.items()}
        results = {name: future.result() for name, future in futures.items()}
    return results | {name: run(SCENARIOS[name]) for name in ALONE}


@pytest.mark.parametrize("name", list(SCENARIOS))
def test_scenario_on_the_local_cloud(outcomes: dict[str, BaseException | None], name: str) -> None:
    raised = outcomes[name]
    if raised is not None:
        raise raised


def test_doctor_passes_against_the_local_cloud(local_world: TargetWorld) -> None:
    result = local_world.cli("doctor")
    assert result.returncode == 0, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    assert all(line.startswith("PASS ") for line in lines[:-1]), lines
    for name in ("local AWS emulator", "local durable execution plane", "workflow table"):
        assert any(name in line for line in lines), name
    assert lines[-1].endswith(" passed, 0 failed")


def test_doctor_fails_with_a_fix_when_the_local_cloud_is_gone(tmp_path: Path) -> None:
    env_file = tmp_path / "gone.env"
    env_file.write_text(
        "ALBUMREG_BUCKET=b\nTABLE_NAME=t\nALBUMREG_STATE_MACHINE_ARN=arn:sm\n"
        "AWS_ENDPOINT_URL_S3=http://127.0.0.1:9\n"
    )
    world_env = cli_environment({"ALBUMREG_ENV_FILE": str(env_file)})
    result = subprocess.run(
        [sys.executable, "-m", "albumreg.cli.main", "doctor"],
        env=world_env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 1
    assert "FAIL local AWS emulator" in result.stdout
    assert "-> fix: start it with `albumreg local`" in result.stdout
