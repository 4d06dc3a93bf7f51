"""The dashboard in a real browser: upload, review, approve both workflows, watch them complete.

``albumreg local`` and ``albumreg dashboard`` run as processes on 127.0.0.1; Debian's Chromium,
headless and driven by Playwright, plays the person. A screenshot of each page is saved under
``test-artifacts/`` (looked at by a person, not compared by the test).
"""

from __future__ import annotations

import contextlib
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import ViewportSize

from albumreg.tools.sample_photos import SAMPLE_PHOTO
from handlers.domain.models import ReviewState, WorkflowStatus
from handlers.domain.tenant import Pattern
from tests.e2e.conftest import ALBUMREG, ROOT, RunningCloud, cli_env

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ARTIFACTS = ROOT / "test-artifacts"
START_TIMEOUT = 60.0
UI_TIMEOUT_MS = 30_000
VIEWPORT: ViewportSize = {"width": 1500, "height": 1000}

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(
        not CHROMIUM.is_file(),
        reason=f"{CHROMIUM} is absent (Debian package `chromium`); no browser is downloaded",
    ),
]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_healthy(url: str, process: subprocess.Popen[str]) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        assert process.poll() is None, "albumreg dashboard exited early"
        with (
            contextlib.suppress(urllib.error.URLError, OSError),
            urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as response,  # noqa: S310
        ):
            if response.read() == b"ok":
                return
        time.sleep(0.2)
    raise AssertionError(f"the dashboard did not answer at {url} within {START_TIMEOUT}s")


@pytest.fixture
def dashboard(start_cloud) -> Iterator[tuple[RunningCloud, str]]:
    """The local cloud and ``albumreg dashboard`` pointed at it, both on loopback."""
    cloud = start_cloud()
    port = free_port()
    process = subprocess.Popen(
        [
            *ALBUMREG,
            "dashboard",
            "--env-file",
            str(cloud.env_file),
            "--server.port",
            str(port),
            "--server.fileWatcherType",
            "none",
        ],
        cwd=ROOT,
        env=cli_env(cloud.env_file),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        url = f"http://127.0.0.1:{port}"
        wait_healthy(url, process)
        yield cloud, url
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def main_height(page) -> int:
    return int(page.evaluate("document.querySelector('[data-testid=\"stMain\"]').scrollHeight"))


def screenshot(page, name: str) -> None:
    """The whole page: Streamlit scrolls inside its main block, so the window grows to fit.

    Streamlit draws over a websocket (no network idle to wait for): wait until the page
    stops growing, then take the picture.
    """
    height, previous = main_height(page), -1
    for _ in range(20):
        if height == previous:
            break
        page.wait_for_timeout(400)
        previous, height = height, main_height(page)
    page.set_viewport_size({"width": VIEWPORT["width"], "height": max(VIEWPORT["height"], height)})
    page.wait_for_timeout(500)
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"dashboard-{name}.png"), full_page=True)
    page.set_viewport_size(VIEWPORT)


def open_page(page, url: str, heading: str) -> None:
    page.goto(url)
    page.get_by_role("heading", name=heading, level=1).wait_for(timeout=UI_TIMEOUT_MS)


def test_person_uploads_reviews_and_both_workflows_complete(dashboard) -> None:
    from playwright.sync_api import expect, sync_playwright

    cloud, url = dashboard
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        page = browser.new_page(viewport=VIEWPORT)
        page.set_default_timeout(UI_TIMEOUT_MS)

        # The person uploads the photo from the Upload page.
        open_page(page, f"{url}/upload", "Upload")
        page.locator("input[type=file]").set_input_files(str(SAMPLE_PHOTO))
        # The preview shows once the server has the file; only then is the button live.
        page.locator("[data-testid=stImage]").wait_for()
        upload = page.get_by_role("button", name="Upload and start both workflows")
        expect(upload).to_be_enabled(timeout=UI_TIMEOUT_MS)
        upload.click()
        page.get_by_text("both workflows started").wait_for()
        screenshot(page, "upload")
        reviews = cloud.wait_for(
            lambda: [r for p in Pattern for r in cloud.repo.list_open_reviews(p)] or None,
            what="reviews open",
        )
        cloud.wait_for(
            lambda: len({r.pattern for p in Pattern for r in cloud.repo.list_open_reviews(p)}) == 2,
            what="both reviews open",
        )
        upload_id = reviews[0].upload_id

        # The pending review shows both workflows; the person corrects slot 1 and approves.
        open_page(page, url, "Pending reviews")
        page.get_by_role("button", name="Refresh data").click()
        page.get_by_text("Durable functions: open").wait_for()
        year = page.get_by_label("Year of slot 1")
        expect(year).to_have_value("1959", timeout=UI_TIMEOUT_MS)
        year.fill("1960")
        screenshot(page, "reviews")
        page.get_by_role("button", name="Approve").click()
        page.get_by_text(f"Step Functions, upload {upload_id}: approved").wait_for()
        page.get_by_text(f"Durable functions, upload {upload_id}: approved").wait_for()

        # Both workflows go on and complete with the corrected year.
        records = cloud.wait_final(upload_id)
        for pattern, record in records.items():
            assert record.summary.status is WorkflowStatus.COMPLETED, pattern
            assert record.review is not None
            assert record.review.state is ReviewState.APPROVED
            assert record.albums[0].year == 1960
            assert record.albums[0].extracted_year == 1959

        open_page(page, f"{url}/albums?upload={upload_id}", "Albums")
        page.get_by_text("Both orchestrators agree on every slot").wait_for()
        screenshot(page, "albums")
        # Each workflow recorded its own cost when its execution ended: no command ran.
        cloud.wait_for(
            lambda: all(
                (found := cloud.repo.get_metrics(p, [upload_id]).get(upload_id)) is not None
                and found.collected
                for p in Pattern
            ),
            what="both METRICS items",
        )
        open_page(page, f"{url}/comparison", "Comparison")
        page.get_by_role("heading", name="One upload on a shared time axis").wait_for()
        page.locator("[data-testid=stVegaLiteChart]").nth(5).wait_for()
        page.get_by_role("heading", name="Cost per workflow").wait_for()
        page.get_by_text("Means over 2 finished workflows").wait_for()
        page.get_by_role("heading", name="From CloudWatch").wait_for()
        page.get_by_text("Workflows completed").first.wait_for()
        screenshot(page, "comparison")
        browser.close()


@pytest.fixture
def failed_upload(tmp_path: Path) -> Iterator[tuple[Path, str]]:
    """A local cloud in this process whose vision model fails for good, and one upload that
    failed in both workflows (the scenario extract-failure of ``albumreg bench``)."""
    from tests.failed_upload import cloud_with_a_failed_upload

    with cloud_with_a_failed_upload(tmp_path) as found:
        yield found


@pytest.mark.timeout(420)
def test_person_inspects_a_failed_upload_in_both_orchestrators(failed_upload) -> None:
    from playwright.sync_api import expect, sync_playwright

    env_file, upload_id = failed_upload
    port = free_port()
    process = subprocess.Popen(
        [*ALBUMREG, "dashboard", "--env-file", str(env_file), "--server.port", str(port),
         "--server.fileWatcherType", "none"],
        cwd=ROOT,
        env=cli_env(env_file),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        text=True,
    )  # fmt: skip
    try:
        url = f"http://127.0.0.1:{port}"
        wait_healthy(url, process)
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
            page = browser.new_page(viewport=VIEWPORT)
            page.set_default_timeout(UI_TIMEOUT_MS)

            # The failed upload is the one the page opens first; both sides show the reason.
            open_page(page, f"{url}/executions", "Executions")
            page.get_by_text(upload_id).first.wait_for()
            reason = page.get_by_text("the vision model returned nothing usable (scenario fault)")
            expect(reason).to_have_count(2)
            page.get_by_role("heading", name="Attempts and retries on one time axis").wait_for()
            page.locator("[data-testid=stVegaLiteChart]").first.wait_for()
            screenshot(page, "executions")
            browser.close()
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
