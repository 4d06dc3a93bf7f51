"""The real clock. Tests and durable replays use their own ``Clock``."""

from __future__ import annotations

from datetime import UTC, datetime


class SystemClock:
    """``Clock`` backed by the system time, always timezone-aware UTC."""

    def now(self) -> datetime:
        """Current UTC time."""
        return datetime.now(UTC)
