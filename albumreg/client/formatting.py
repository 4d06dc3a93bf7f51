"""Small text formats shared by the CLI and the dashboard."""

from __future__ import annotations


def duration(seconds: float) -> str:
    """``1h 02m``, ``3m 05s`` or ``4.2s``: short and unambiguous."""
    if seconds < 0:
        return "expired"
    if seconds < 60:
        return f"{seconds:.1f}s"
    minutes, secs = divmod(int(seconds), 60)
    if minutes < 60:
        return f"{minutes}m {secs:02d}s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h {minutes:02d}m"
