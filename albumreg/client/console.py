"""Plain-text output for the terminal (the CLI and the tools): aligned tables and error lines."""

from __future__ import annotations

import sys
from collections.abc import Sequence


def table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    """An aligned text table; ``None`` cells print as a dash."""
    cells = [[("-" if cell is None else str(cell)) for cell in row] for row in rows]
    widths = [
        max([len(header)] + [len(row[i]) for row in cells]) for i, header in enumerate(headers)
    ]
    lines = ["  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)).rstrip()]
    lines.append("  ".join("-" * w for w in widths))
    lines += [
        "  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip() for row in cells
    ]
    return "\n".join(lines)


def fail(message: str, status: int = 2) -> int:
    """Print an error for a person on stderr and return the exit status to use."""
    print(f"albumreg: error: {message}", file=sys.stderr)
    return status
