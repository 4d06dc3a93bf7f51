"""Capture what the handlers' Powertools logger writes, as the JSON documents Lambda would log.

Powertools binds its stream handler to ``sys.stdout`` when the logger is created (at import), so
pytest's per-test capture never sees it; a second handler with the same formatter does.
"""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from handlers.adapters.powertools import SERVICE, logger


@contextmanager
def captured_lines() -> Iterator[list[dict[str, Any]]]:
    """Every line logged inside the block, parsed; the list fills when the block ends."""
    buffer = io.StringIO()
    handler = logging.StreamHandler(buffer)
    handler.setFormatter(logger.registered_formatter)
    target = logging.getLogger(SERVICE)  # the std logger Powertools writes through
    target.addHandler(handler)
    lines: list[dict[str, Any]] = []
    try:
        yield lines
    finally:
        target.removeHandler(handler)
        lines.extend(json.loads(line) for line in buffer.getvalue().splitlines() if line)
