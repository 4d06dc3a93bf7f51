"""A background thread that calls one function again and again until it is stopped.

The local cloud's event router drains its queues and its status watcher lists executions this
way: AWS pushes both kinds of event, the emulators have to be asked. A poll that raises is
logged and tried again later, so one refused call never ends the delivery for good.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

logger = logging.getLogger(__name__)


class Poller:
    """Calls ``poll`` on a daemon thread, ``interval`` seconds apart, until ``stop``.

    Args:
        name: the thread's name, and the prefix of the log line a failed poll writes.
        poll: one round of work; what it returns is ignored.
        interval: seconds to wait before each poll (0: poll again at once, for a ``poll`` that
            waits by itself, such as an SQS long poll).
        retry_seconds: seconds to wait after a poll that raised, so a failing endpoint is not
            called in a tight loop; ``interval`` when it is longer.
    """

    def __init__(
        self, name: str, poll: Callable[[], object], *, interval: float, retry_seconds: float
    ) -> None:
        self.name = name
        self._poll = poll
        self._interval = interval
        self._retry_seconds = max(retry_seconds, interval)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)

    def start(self) -> None:
        """Begin polling."""
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        """Stop after the current poll; wait at most ``timeout`` seconds for it to end."""
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout)

    def _run(self) -> None:
        delay = self._interval
        while not self._stop.wait(delay):
            try:
                self._poll()
            except Exception:
                logger.exception("%s: polling failed; retrying", self.name)
                delay = self._retry_seconds
            else:
                delay = self._interval
