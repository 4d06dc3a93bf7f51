"""``albumreg bench-dashboard`` on a small table: every page drawn, timed, and never a Scan."""

from __future__ import annotations

import json

from albumreg.tools.dashboard_bench import PAGES, render_table, run_benchmark


def test_every_page_draws_from_queries_and_batch_reads_only() -> None:
    lines: list[str] = []
    bench = run_benchmark(3, lines.append)

    assert [page.page for page in bench.pages] == [name for name, _ in PAGES]
    assert bench.ok, [page.error for page in bench.pages]
    assert bench.scan_calls == 0
    albums = next(page for page in bench.pages if page.page == "Albums")
    # the listing (a Query per pattern) and the newest upload's two records (one Query each)
    assert albums.dynamodb_calls == {"Query": 4}
    assert all(page.cold_cpu_seconds > 0 for page in bench.pages)
    document = json.loads(json.dumps(bench.as_dict()))
    assert {page["page"] for page in document["pages"]} == {name for name, _ in PAGES}
    assert "Scan calls: 0" in render_table(bench)
