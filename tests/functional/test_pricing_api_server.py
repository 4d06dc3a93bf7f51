"""The local pricing API on loopback: Discogs wire format, auth, rate-limit headers, the admin
endpoint that changes knobs at run time, and a clean stop even with stalled requests."""

from __future__ import annotations

import json
import socket
import time

import pytest
import urllib3

from albumreg.cloud.catalog import CONDITIONS, load_catalog
from albumreg.cloud.fake_discogs import Knobs, PricingApiServer, search_catalog

AUTH = {"Authorization": "Discogs token=abc", "User-Agent": "albumreg-tests"}
HTTP = urllib3.PoolManager(retries=False, timeout=urllib3.Timeout(connect=2, read=5))


@pytest.fixture
def server():
    with PricingApiServer() as running:
        yield running


def get(server, path: str, headers=AUTH, **fields):
    response = HTTP.request("GET", f"{server.url}{path}", fields=fields or None, headers=headers)
    return response.status, response.json(), response.headers


def post_knobs(server, body):
    payload = body if isinstance(body, bytes) else json.dumps(body).encode()
    response = HTTP.request(
        "POST",
        f"{server.url}/_admin/knobs",
        body=payload,
        headers={"Content-Type": "application/json"},
    )
    return response.status, response.json()


def test_search_speaks_discogs_format(server):
    status, body, headers = get(
        server,
        "/database/search",
        artist="Fleetwood Mac",
        release_title="Rumours",
        type="release",
        per_page="5",
    )
    assert status == 200
    first = body["results"][0]
    assert first["type"] == "release"
    assert first["title"] == "Fleetwood Mac - Rumours"
    assert first["year"] == "1977"
    assert isinstance(first["id"], int)
    assert body["pagination"]["per_page"] == 5
    assert body["pagination"]["items"] >= 1
    assert headers["X-Discogs-Ratelimit"] == "60"
    assert int(headers["X-Discogs-Ratelimit-Remaining"]) == 59


def test_search_by_free_text_year_and_paging(server):
    _, by_query, _ = get(server, "/database/search", q="Led Zeppelin", per_page="2", page="2")
    assert by_query["pagination"]["page"] == 2
    assert len(by_query["results"]) == 2
    assert all(r["title"].startswith("Led Zeppelin - ") for r in by_query["results"])
    _, by_year, _ = get(server, "/database/search", artist="Led Zeppelin", year="1971")
    assert [r["title"] for r in by_year["results"]] == ["Led Zeppelin - Led Zeppelin IV"]
    _, masters, _ = get(server, "/database/search", q="Led Zeppelin", type="master")
    assert masters["results"] == []


def test_search_catalog_ranks_exact_first_and_rejects_strangers():
    catalog = load_catalog()
    assert search_catalog(catalog, artist="Joni Mitchell", title="Blue")[0].title == "Blue"
    assert search_catalog(catalog, artist="Nonexistent Band", title="Imaginary Album") == []


def test_stats_and_suggestions_of_a_release(server):
    album = next(a for a in load_catalog() if a.title == "Purple Rain")
    status, stats, _ = get(server, f"/marketplace/stats/{album.release_id}")
    assert status == 200
    assert stats == {
        "lowest_price": {"currency": "USD", "value": float(album.lowest_price)},
        "num_for_sale": album.num_for_sale,
        "blocked_from_sale": False,
    }
    status, suggestions, _ = get(server, f"/marketplace/price_suggestions/{album.release_id}")
    assert status == 200
    assert list(suggestions) == list(CONDITIONS)
    assert suggestions["Mint (M)"] == {"currency": "USD", "value": float(album.prices["Mint (M)"])}


@pytest.mark.parametrize(
    "path", ["/marketplace/stats/1", "/marketplace/price_suggestions/abc", "/releases/900001"]
)
def test_unknown_release_or_path_is_404(server, path):
    status, body, _ = get(server, path)
    assert status == 404
    assert body["message"]


@pytest.mark.parametrize(
    "headers", [{}, {"Authorization": "Bearer abc"}, {"Authorization": "Discogs token="}]
)
def test_missing_or_malformed_token_is_401(server, headers):
    status, body, _ = get(server, "/database/search", headers=headers, q="Blue")
    assert status == 401
    assert "authenticate" in body["message"]
    assert server.stats()["by_fault"] == {"unauthorized": 1}


def test_expected_token_enforced():
    with PricingApiServer(token="right") as strict:
        assert get(strict, "/database/search", q="Blue")[0] == 401
        assert (
            get(
                strict,
                "/database/search",
                headers={"Authorization": "Discogs token=right"},
                q="Blue",
            )[0]
            == 200
        )


def test_admin_changes_knobs_at_run_time(server):
    assert get(server, "/_admin/knobs", headers={})[1] == Knobs().model_dump()
    status, knobs = post_knobs(server, {"error_rate": 1.0})
    assert (status, knobs["error_rate"], knobs["latency"]) == (200, 1.0, 0.0)
    assert get(server, "/database/search", q="Blue")[0] == 500
    post_knobs(server, {"error_rate": 0, "rate_limit": 1, "retry_after": 7})
    status, _, headers = get(server, "/database/search", q="Blue")
    assert (status, headers["Retry-After"]) == (429, "7")
    post_knobs(server, {"rate_limit": 0, "latency": 0.3})
    started = time.monotonic()
    assert get(server, "/database/search", q="Blue")[0] == 200
    assert time.monotonic() - started >= 0.3
    stats = get(server, "/_admin/stats", headers={})[1]
    assert stats["requests"] == 3
    assert stats["by_path"] == {"/database/search": 3}
    assert stats["by_fault"] == {"error": 1, "rate_limit": 1}
    assert stats["by_status"] == {"500": 1, "429": 1, "200": 1}
    HTTP.request("DELETE", f"{server.url}/_admin/stats")
    assert server.stats()["requests"] == 0


@pytest.mark.parametrize(
    "body", [{"error_rate": 2}, {"nonsense": 1}, [1], b"not json", {"suggestions_status": 500}]
)
def test_admin_rejects_invalid_knobs(server, body):
    status, reply = post_knobs(server, body)
    assert status == 400
    assert "invalid knobs" in reply["message"]
    assert server.knobs == Knobs()


def test_every_nth_rate_limit_and_seeded_faults_repeat(server):
    server.set_knobs(rate_limit_every=3)
    statuses = [get(server, "/database/search", q="Blue")[0] for _ in range(6)]
    assert statuses == [429, 200, 200, 429, 200, 200]

    def run() -> list[int]:
        server.set_knobs(rate_limit_every=0, error_rate=0.5, seed=42)
        return [get(server, "/database/search", q="Blue")[0] for _ in range(12)]

    first = run()
    assert first == run()
    assert {200, 500} == set(first)


def test_stop_is_quick_with_a_stalled_request():
    server = PricingApiServer(knobs=Knobs(hang_rate=1.0, hang_seconds=30)).start()
    with socket.create_connection(("127.0.0.1", int(server.url.rsplit(":", 1)[1]))) as raw:
        raw.sendall(
            b"GET /database/search?q=Blue HTTP/1.1\r\nHost: x\r\n"
            b"Authorization: Discogs token=a\r\n\r\n"
        )
        time.sleep(0.2)
        started = time.monotonic()
        server.stop()
        assert time.monotonic() - started < 1.0
    server.stop()
    assert server.url == ""


def test_second_server_on_same_port_fails_to_bind(server):
    port = int(server.url.rsplit(":", 1)[1])
    with pytest.raises(OSError):
        PricingApiServer(port=port).start()
