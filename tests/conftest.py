"""Shared fixtures: fake AWS credentials everywhere, and small builders of domain objects."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from albumreg.tools.sample_photos import demo_albums
from handlers.domain.events import upload_id_for
from handlers.domain.models import Album, Extraction, Upload

T0 = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)

CATALOG_SIX = [(album.title, album.artist, album.year) for album in demo_albums()]
"""The six albums of the demo photo, with the catalog's years, in slot order."""


@pytest.fixture(autouse=True)
def _fake_aws_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    """No test may reach a real AWS account: fake credentials, a fixed region, no endpoints."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_SESSION_TOKEN", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    for name in ("AWS_PROFILE", "AWS_ENDPOINT_URL"):
        monkeypatch.delenv(name, raising=False)


class FixedClock:
    """A clock that moves only when told to."""

    def __init__(self, start: datetime = T0) -> None:
        self.current = start

    def now(self) -> datetime:
        return self.current

    def advance(self, seconds: float) -> None:
        self.current += timedelta(seconds=seconds)


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock()


def make_upload(key: str = "uploads/shelf.jpg", etag: str = "abc123", size: int = 1000) -> Upload:
    return Upload(
        upload_id=upload_id_for("albums-bucket", key, etag),
        bucket="albums-bucket",
        key=key,
        size=size,
        etag=etag,
        received_at=T0,
    )


def six_albums(unrecognized: tuple[int, ...] = ()) -> list[Album]:
    albums = []
    for slot, (title, artist, year) in enumerate(CATALOG_SIX, start=1):
        if slot in unrecognized:
            albums.append(Album(slot=slot, unrecognized=True, note="no text on cover"))
        else:
            albums.append(Album(slot=slot, title=title, artist=artist, year=year, confidence=0.9))
    return albums


def make_extraction(unrecognized: tuple[int, ...] = ()) -> Extraction:
    return Extraction(albums=six_albums(unrecognized), engine="test")


@pytest.fixture
def upload() -> Iterator[Upload]:
    yield make_upload()


def s3_event(bucket: str, key: str, etag: str = "abc123", size: int = 1000) -> dict[str, object]:
    """An EventBridge "Object Created" event as AWS sends it (see tests/events)."""
    return {
        "version": "0",
        "id": "17793124-05d4-b198-2fde-7ededc63b103",
        "detail-type": "Object Created",
        "source": "aws.s3",
        "account": "123456789012",
        "time": T0.isoformat().replace("+00:00", "Z"),
        "region": "us-east-1",
        "resources": [f"arn:aws:s3:::{bucket}"],
        "detail": {
            "version": "0",
            "bucket": {"name": bucket},
            "object": {"key": key, "size": size, "etag": etag},
            "reason": "PutObject",
        },
    }
