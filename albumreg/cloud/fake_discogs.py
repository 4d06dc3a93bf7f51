"""A local stand-in for the Discogs API subset pricing uses, serving the bundled SAMPLE catalog.

Same wire format as api.discogs.com for search, marketplace stats and price suggestions, plus
fault knobs (latency, 500s, 429s, hangs) settable at run time through ``/_admin``. Local-only:
it may use rapidfuzz; Lambda code must never import this module.
"""

from __future__ import annotations

import json
import logging
import random
import re
import socket
import threading
import time
from collections import Counter, deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Annotated, Any, Literal, Self
from urllib.parse import parse_qs, urlsplit

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from rapidfuzz import fuzz, utils

from albumreg.cloud.catalog import CatalogAlbum, load_catalog
from handlers.adapters.pricing.transport import PRICING_READ_TIMEOUT_SECONDS

logger = logging.getLogger(__name__)

RATE_LIMIT_PER_MINUTE = 60
"""What Discogs grants an authenticated client; reported in the rate-limit headers."""

FIELD_MATCH_THRESHOLD = 80
QUERY_MATCH_THRESHOLD = 70
"""rapidfuzz scores (0..100) a catalog album needs to appear in search results. Lenient, like
Discogs' own search: the agent, not the server, decides which result is the album."""

DEFAULT_PER_PAGE = 50
MAX_PER_PAGE = 100
MAX_ADMIN_BODY_BYTES = 64 * 1024
MAX_HANG_SECONDS = 120.0
MAX_LATENCY_SECONDS = 60.0
SHUTDOWN_POLL_SECONDS = 0.05

_TOKEN_HEADER = re.compile(r"^Discogs token=(\S+)$")
_STATS_PATH = re.compile(r"^/marketplace/stats/([^/]+)$")
_SUGGESTIONS_PATH = re.compile(r"^/marketplace/price_suggestions/([^/]+)$")

SEARCH_ROUTE = "/database/search"
STATS_ROUTE = "/marketplace/stats"
SUGGESTIONS_ROUTE = "/marketplace/price_suggestions"
OTHER_ROUTE = "other"


class Knobs(BaseModel):
    """Faults and delays the server injects into API requests (never into ``/_admin``).

    Attributes:
        latency: seconds added to every API request.
        jitter: up to this many more seconds, uniformly random.
        error_rate: fraction of requests answered 500.
        rate_limit: fraction of requests answered 429.
        rate_limit_every: every Nth request (the 1st, N+1th, ...) answered 429; 0 is off.
        retry_after: ``Retry-After`` seconds sent with a 429.
        hang_rate: fraction of requests that stall ``hang_seconds`` before answering.
        hang_seconds: long enough to pass the client's read timeout, bounded so threads end.
        seed: seed of the fault generator, for reproducible runs; None is random.
        suggestions_status: 200 serves price suggestions; 403 or 404 refuses them, as Discogs
            does for an account without seller settings (the agent falls back to the lowest
            listing).
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    latency: Annotated[float, Field(ge=0, le=MAX_LATENCY_SECONDS)] = 0.0
    jitter: Annotated[float, Field(ge=0, le=MAX_LATENCY_SECONDS)] = 0.0
    error_rate: Annotated[float, Field(ge=0, le=1)] = 0.0
    rate_limit: Annotated[float, Field(ge=0, le=1)] = 0.0
    rate_limit_every: Annotated[int, Field(ge=0)] = 0
    retry_after: Annotated[int, Field(ge=0, le=3600)] = 1
    hang_rate: Annotated[float, Field(ge=0, le=1)] = 0.0
    hang_seconds: Annotated[float, Field(gt=0, le=MAX_HANG_SECONDS)] = (
        PRICING_READ_TIMEOUT_SECONDS + 2
    )
    seed: int | None = None
    suggestions_status: Literal[200, 403, 404] = 200


@dataclass(frozen=True)
class _Fault:
    """What one request gets: a delay, and at most one fault."""

    delay: float
    kind: str | None


class _State:
    """Knobs, fault generator and counters, shared by the handler threads under one lock."""

    def __init__(self, knobs: Knobs, catalog: Iterable[CatalogAlbum], token: str | None) -> None:
        self.lock = threading.Lock()
        self.stopping = threading.Event()
        self.catalog = tuple(catalog)
        self.by_id = {album.release_id: album for album in self.catalog}
        self.token = token
        self.knobs = knobs
        self.rng = random.Random(knobs.seed)  # noqa: S311 (fault injection, not secrets)
        self.since_knobs = 0
        self.recent: deque[float] = deque()
        self.by_path: Counter[str] = Counter()
        self.by_fault: Counter[str] = Counter()
        self.by_status: Counter[str] = Counter()

    def set_knobs(self, changes: Mapping[str, Any]) -> Knobs:
        """Merge and validate; reseeds and restarts the "every Nth" count, so runs repeat."""
        with self.lock:
            knobs = Knobs.model_validate({**self.knobs.model_dump(), **changes})
            self.knobs = knobs
            self.rng = random.Random(knobs.seed)  # noqa: S311 (fault injection, not secrets)
            self.since_knobs = 0
        return knobs

    def admit(self, route: str) -> tuple[_Fault, int]:
        """Count the request, draw its fault, and return the rate-limit window's usage."""
        now = time.monotonic()
        with self.lock:
            knobs = self.knobs
            self.by_path[route] += 1
            self.since_knobs += 1
            self.recent.append(now)
            while self.recent and self.recent[0] <= now - 60:
                self.recent.popleft()
            # Always draw the same numbers per request, so a seed gives the same fault sequence
            # whichever knobs are on.
            hang, limited, failed = self.rng.random(), self.rng.random(), self.rng.random()
            delay = knobs.latency + self.rng.uniform(0, knobs.jitter)
            every = knobs.rate_limit_every
            kind: str | None = None
            if hang < knobs.hang_rate:
                kind = "hang"
            elif limited < knobs.rate_limit or (every and (self.since_knobs - 1) % every == 0):
                kind = "rate_limit"
            elif failed < knobs.error_rate:
                kind = "error"
            if kind:
                self.by_fault[kind] += 1
            return _Fault(delay, kind), len(self.recent)

    def count(self, fault: str | None = None, status: int | None = None) -> None:
        """Record an outcome that is not an injected fault (401, 404) or a response status."""
        with self.lock:
            if fault:
                self.by_fault[fault] += 1
            if status is not None:
                self.by_status[str(status)] += 1

    def stats(self) -> dict[str, Any]:
        """Request counts by route, by fault and by status."""
        with self.lock:
            return {
                "requests": sum(self.by_path.values()),
                "by_path": dict(self.by_path),
                "by_fault": dict(self.by_fault),
                "by_status": dict(self.by_status),
            }

    def reset_stats(self) -> None:
        """Forget every count (the knobs stay)."""
        with self.lock:
            self.by_path.clear()
            self.by_fault.clear()
            self.by_status.clear()


def _route(path: str) -> tuple[str, str | None]:
    """The counted route of a path, and the release id it names, if any."""
    if path == SEARCH_ROUTE:
        return SEARCH_ROUTE, None
    for pattern, route in ((_STATS_PATH, STATS_ROUTE), (_SUGGESTIONS_PATH, SUGGESTIONS_ROUTE)):
        found = pattern.match(path)
        if found:
            return route, found.group(1)
    return OTHER_ROUTE, None


def _score(wanted: str, offered: str, scorer: Any) -> float:
    return float(scorer(wanted, offered, processor=utils.default_process))


def _relevance(album: CatalogAlbum, query: str, artist: str, title: str) -> float | None:
    """Mean rapidfuzz score over the fields searched, or None below a threshold."""
    scores: list[float] = []
    for wanted, offered in ((artist, album.artist), (title, album.title)):
        if wanted:
            scores.append(_score(wanted, offered, fuzz.WRatio))
            if scores[-1] < FIELD_MATCH_THRESHOLD:
                return None
    if query:
        scores.append(_score(query, f"{album.artist} {album.title}", fuzz.token_set_ratio))
        if scores[-1] < QUERY_MATCH_THRESHOLD:
            return None
    return sum(scores) / len(scores) if scores else 100.0


def search_catalog(
    catalog: Iterable[CatalogAlbum],
    *,
    query: str = "",
    artist: str = "",
    title: str = "",
    year: int | None = None,
) -> list[CatalogAlbum]:
    """Albums matching the search fields, best first, like Discogs' relevance order."""
    scored: list[tuple[float, int, CatalogAlbum]] = []
    for album in catalog:
        if year is not None and album.year != year:
            continue
        relevance = _relevance(album, query, artist, title)
        if relevance is not None:
            scored.append((-relevance, album.release_id, album))
    return [album for _, _, album in sorted(scored, key=lambda item: item[:2])]


def _money(value: Any) -> dict[str, Any]:
    return {"currency": "USD", "value": float(value)}


class _Handler(BaseHTTPRequestHandler):
    """One request; the API state hangs off the server object."""

    server: _Server
    protocol_version = "HTTP/1.1"
    # Headers and body leave in two writes; with Nagle on, each keep-alive answer waits ~40 ms.
    disable_nagle_algorithm = True
    server_version = "albumreg-pricing-api/1"

    def log_message(self, format: str, *args: Any) -> None:
        """Request lines go to the module logger at debug level, not to stderr."""
        logger.debug("%s - %s", self.address_string(), format % args)

    # --- dispatch --------------------------------------------------------------------------

    def do_GET(self) -> None:
        """API routes, and the admin knobs and stats."""
        url = urlsplit(self.path)
        if url.path == "/_admin/knobs":
            self._write(HTTPStatus.OK, self.server.state.knobs.model_dump())
        elif url.path == "/_admin/stats":
            self._write(HTTPStatus.OK, self.server.state.stats())
        else:
            self._api(url.path, parse_qs(url.query))

    def do_POST(self) -> None:
        """``/_admin/knobs``: change some knobs, keep the rest."""
        if urlsplit(self.path).path != "/_admin/knobs":
            self._write(HTTPStatus.NOT_FOUND, {"message": "The requested resource was not found."})
            return
        length = int(self.headers.get("Content-Length") or 0)
        if not 0 < length <= MAX_ADMIN_BODY_BYTES:
            self._write(HTTPStatus.BAD_REQUEST, {"message": "send a JSON object of knobs"})
            return
        try:
            changes = json.loads(self.rfile.read(length))
            if not isinstance(changes, dict):
                raise TypeError("not an object")
            knobs = self.server.state.set_knobs(changes)
        except (ValueError, TypeError, ValidationError) as exc:
            self._write(HTTPStatus.BAD_REQUEST, {"message": f"invalid knobs: {exc}"})
            return
        logger.info("knobs changed: %s", knobs.model_dump())
        self._write(HTTPStatus.OK, knobs.model_dump())

    def do_DELETE(self) -> None:
        """``/_admin/stats``: reset the counters."""
        if urlsplit(self.path).path != "/_admin/stats":
            self._write(HTTPStatus.NOT_FOUND, {"message": "The requested resource was not found."})
            return
        self.server.state.reset_stats()
        self._write(HTTPStatus.OK, self.server.state.stats())

    # --- the Discogs subset ----------------------------------------------------------------

    def _api(self, path: str, params: dict[str, list[str]]) -> None:
        state = self.server.state
        route, release = _route(path)
        fault, used = state.admit(route)
        headers = {
            "X-Discogs-Ratelimit": str(RATE_LIMIT_PER_MINUTE),
            "X-Discogs-Ratelimit-Used": str(min(used, RATE_LIMIT_PER_MINUTE)),
            "X-Discogs-Ratelimit-Remaining": str(max(0, RATE_LIMIT_PER_MINUTE - used)),
        }
        if fault.delay and state.stopping.wait(fault.delay):
            return
        # A hang stalls past the client's timeout; a stopping server wakes every stalled thread.
        if fault.kind == "hang" and state.stopping.wait(state.knobs.hang_seconds):
            return
        if fault.kind == "rate_limit":
            headers["Retry-After"] = str(state.knobs.retry_after)
            self._send(
                HTTPStatus.TOO_MANY_REQUESTS,
                {"message": "You are making requests too quickly."},
                headers,
            )
            return
        if fault.kind == "error":
            self._send(
                HTTPStatus.INTERNAL_SERVER_ERROR,
                {"message": "Internal server error (injected)."},
                headers,
            )
            return
        if not self._authorized():
            state.count(fault="unauthorized")
            self._send(
                HTTPStatus.UNAUTHORIZED,
                {"message": "You must authenticate to access this resource."},
                headers,
            )
            return
        if route == SEARCH_ROUTE:
            self._search(params, headers)
            return
        album = self._album(release)
        if album is None:
            state.count(fault="not_found")
            message = (
                "Release not found."
                if release is not None
                else "The requested resource was not found."
            )
            self._send(HTTPStatus.NOT_FOUND, {"message": message}, headers)
        elif route == STATS_ROUTE:
            self._send(HTTPStatus.OK, _stats_body(album), headers)
        elif state.knobs.suggestions_status != int(HTTPStatus.OK):
            state.count(fault="suggestions_refused")
            refusal = {"message": "You must fill out your seller settings first."}
            self._send(HTTPStatus(state.knobs.suggestions_status), refusal, headers)
        else:
            body = {condition: _money(price) for condition, price in album.prices.items()}
            self._send(HTTPStatus.OK, body, headers)

    def _authorized(self) -> bool:
        found = _TOKEN_HEADER.match(self.headers.get("Authorization", ""))
        expected = self.server.state.token
        return found is not None and (expected is None or found.group(1) == expected)

    def _album(self, release: str | None) -> CatalogAlbum | None:
        if release is None or not release.isdigit():
            return None
        return self.server.state.by_id.get(int(release))

    def _search(self, params: dict[str, list[str]], headers: dict[str, str]) -> None:
        def one(name: str) -> str:
            return params.get(name, [""])[0].strip()

        try:
            year = int(one("year")) if one("year") else None
            per_page = min(MAX_PER_PAGE, max(1, int(one("per_page") or DEFAULT_PER_PAGE)))
            page = max(1, int(one("page") or 1))
        except ValueError:
            self._send(
                HTTPStatus.BAD_REQUEST, {"message": "year, page and per_page are numbers"}, headers
            )
            return
        kind = one("type")
        found = (
            []
            if kind and kind != "release"
            else search_catalog(
                self.server.state.catalog,
                query=one("q"),
                artist=one("artist"),
                title=one("release_title"),
                year=year,
            )
        )
        pages = max(1, -(-len(found) // per_page))
        shown = found[(page - 1) * per_page : page * per_page]
        body = {
            "pagination": {
                "page": page,
                "pages": pages,
                "per_page": per_page,
                "items": len(found),
                "urls": {},
            },
            "results": [self._result(album) for album in shown],
        }
        self._send(HTTPStatus.OK, body, headers)

    def _result(self, album: CatalogAlbum) -> dict[str, Any]:
        return {
            "id": album.release_id,
            "type": "release",
            "title": f"{album.artist} - {album.title}",
            "year": str(album.year),
            "country": "US",
            "format": ["Vinyl", "LP", "Album"],
            "genre": [album.genre],
            "style": [],
            "catno": f"SAMPLE-{album.release_id}",
            "uri": f"/release/{album.release_id}",
            "resource_uri": f"{self.server.url}/releases/{album.release_id}",
            "thumb": "",
            "cover_image": "",
        }

    def _send(
        self, status: HTTPStatus, body: Any, headers: Mapping[str, str] | None = None
    ) -> None:
        """Answer an API request and count its status."""
        self.server.state.count(status=int(status))
        self._write(status, body, headers)

    def _write(
        self, status: HTTPStatus, body: Any, headers: Mapping[str, str] | None = None
    ) -> None:
        """Answer any request (admin ones are not counted)."""
        payload = json.dumps(body).encode()
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(payload)
        except OSError:
            # The client gave up (its timeout passed): nobody is left to answer.
            self.close_connection = True


def _stats_body(album: CatalogAlbum) -> dict[str, Any]:
    return {
        "lowest_price": _money(album.lowest_price) if album.num_for_sale else None,
        "num_for_sale": album.num_for_sale,
        "blocked_from_sale": False,
    }


class _Server(ThreadingHTTPServer):
    """Threaded server that can close its open keep-alive connections on stop."""

    daemon_threads = True
    block_on_close = False

    def __init__(self, address: tuple[str, int], state: _State) -> None:
        super().__init__(address, _Handler)
        self.state = state
        self.url = ""
        self._open: set[socket.socket] = set()
        self._open_lock = threading.Lock()

    def get_request(self) -> tuple[socket.socket, Any]:
        """Track every accepted connection, so ``close_connections`` can end idle ones."""
        connection, address = super().get_request()
        with self._open_lock:
            self._open.add(connection)
        return connection, address

    def shutdown_request(self, request: Any) -> None:
        """Forget a connection once its handler is done with it."""
        with self._open_lock:
            self._open.discard(request)
        super().shutdown_request(request)

    def close_connections(self) -> None:
        """End every open connection; handler threads blocked on a read return at once."""
        with self._open_lock:
            connections = list(self._open)
        for connection in connections:
            try:
                connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                continue


class PricingApiServer:
    """The local pricing API on a background thread; use as a context manager.

    Args:
        host: interface to bind; keep 127.0.0.1.
        port: TCP port, 0 for an ephemeral one (see ``url``).
        knobs: initial faults and delays.
        catalog: albums to serve (the bundled sample catalog by default).
        token: the only token accepted; None accepts any ``Discogs token=...`` header.
    """

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        knobs: Knobs | None = None,
        catalog: Iterable[CatalogAlbum] | None = None,
        token: str | None = None,
    ) -> None:
        self._address = (host, port)
        self._state = _State(
            knobs or Knobs(), load_catalog() if catalog is None else catalog, token
        )
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    def __repr__(self) -> str:
        return f"PricingApiServer(url={self.url!r})"

    @property
    def url(self) -> str:
        """Base URL (``http://127.0.0.1:PORT``), once started; empty before."""
        return self._server.url if self._server else ""

    @property
    def knobs(self) -> Knobs:
        """The knobs in force."""
        return self._state.knobs

    def set_knobs(self, **changes: Any) -> Knobs:
        """Change some knobs at run time (same as ``POST /_admin/knobs``)."""
        return self._state.set_knobs(changes)

    def stats(self) -> dict[str, Any]:
        """Request counts by route, by fault and by status (same as ``GET /_admin/stats``)."""
        return self._state.stats()

    def reset_stats(self) -> None:
        """Forget the counts (same as ``DELETE /_admin/stats``)."""
        self._state.reset_stats()

    def start(self) -> Self:
        """Bind and serve on a daemon thread.

        Raises:
            OSError: the address is in use or cannot be bound.
        """
        if self._server is not None:
            return self
        self._state.stopping.clear()
        server = _Server(self._address, self._state)
        host, port = server.server_address[:2]
        server.url = f"http://{host!s}:{port}"
        self._server = server
        # A short poll interval makes stop() quick (tests start and stop many servers).
        self._thread = threading.Thread(
            target=server.serve_forever,
            kwargs={"poll_interval": SHUTDOWN_POLL_SECONDS},
            name=f"pricing-api-{port}",
            daemon=True,
        )
        self._thread.start()
        logger.info(
            "pricing API serving %d sample albums at %s", len(self._state.catalog), self.url
        )
        return self

    def stop(self) -> None:
        """Stop serving, wake stalled requests and close connections; safe to call twice."""
        server, thread = self._server, self._thread
        if server is None:
            return
        self._state.stopping.set()
        server.shutdown()
        server.close_connections()
        server.server_close()
        if thread is not None:
            thread.join()
        self._server = self._thread = None
        logger.info("pricing API stopped")

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()
