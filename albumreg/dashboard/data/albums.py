"""The Albums page's data: uploads of both patterns merged by upload id, albums side by side.

Every listing is a Query on the status index (never a Scan).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime

from albumreg.dashboard.data.backend import Backend
from handlers.domain.models import WorkflowStatus
from handlers.domain.records import StoredAlbum, UploadRecord, UploadSummary
from handlers.domain.tenant import PATTERNS, Pattern


@dataclass(frozen=True)
class UploadRow:
    """One upload in the listing: its status in each pattern."""

    upload_id: str
    key: str
    received_at: datetime
    statuses: dict[Pattern, WorkflowStatus]
    errors: dict[Pattern, str]


def list_uploads(
    backend: Backend, pattern: Pattern, status: WorkflowStatus, limit: int
) -> list[UploadSummary]:
    """The newest ``limit`` uploads of one pattern in one status (one Query on the index)."""
    return backend.deps.repo.list_uploads(pattern, status, limit=limit)


def merge_uploads(
    summaries: Iterable[UploadSummary], since: date | None = None, until: date | None = None
) -> list[UploadRow]:
    """One row per upload, both patterns side by side, newest first, within the dates given."""
    by_upload: dict[str, dict[Pattern, UploadSummary]] = {}
    for summary in summaries:
        by_upload.setdefault(summary.upload_id, {})[summary.pattern] = summary
    rows = []
    for upload_id, by_pattern in by_upload.items():
        first = min(by_pattern.values(), key=lambda summary: summary.received_at)
        day = first.received_at.date()
        if (since and day < since) or (until and day > until):
            continue
        rows.append(
            UploadRow(
                upload_id=upload_id,
                key=first.key,
                received_at=first.received_at,
                statuses={p: s.status for p, s in by_pattern.items()},
                errors={p: s.error for p, s in by_pattern.items() if s.error},
            )
        )
    return sorted(rows, key=lambda row: row.received_at, reverse=True)


def upload_pair(backend: Backend, upload_id: str) -> dict[Pattern, UploadRecord | None]:
    """Both patterns' records of one upload (one Query each)."""
    return {pattern: backend.deps.repo.get_upload(pattern, upload_id) for pattern in PATTERNS}


COMPARED_FIELDS: tuple[str, ...] = (
    "title",
    "artist",
    "year",
    "price",
    "currency",
    "price_confidence",
    "price_error",
)


@dataclass(frozen=True)
class AlbumPair:
    """One slot of one upload in both patterns, and the fields where they disagree."""

    slot: int
    albums: dict[Pattern, StoredAlbum | None]
    differences: frozenset[str]


def album_pairs(pair: Mapping[Pattern, UploadRecord | None]) -> list[AlbumPair]:
    """Slot by slot, the two patterns' albums; a slot one side lacks differs in every field."""
    by_pattern = {
        pattern: {album.slot: album for album in record.albums} if record else {}
        for pattern, record in pair.items()
    }
    slots = sorted({slot for albums in by_pattern.values() for slot in albums})
    pairs = []
    for slot in slots:
        albums = {pattern: by_pattern[pattern].get(slot) for pattern in PATTERNS}
        present = [album for album in albums.values() if album is not None]
        if len(present) < len(PATTERNS):
            differences = frozenset(COMPARED_FIELDS)
        else:
            differences = frozenset(
                name
                for name in COMPARED_FIELDS
                if len({getattr(album, name) for album in present}) > 1
            )
        pairs.append(AlbumPair(slot, albums, differences))
    return pairs
