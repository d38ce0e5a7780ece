"""A queue waited on for a length of time, which a clock set ahead cannot stretch."""
from __future__ import annotations

import contextlib
import os
import queue
import selectors


class Inbox:
    """A queue the build waits on with select, not with a lock's timeout.

    A lock's timed wait sleeps until a moment on the clock, and a clock set ahead (faketime, as the test
    suite runs) makes that moment weeks away; select's timeout is a length of time.
    """

    def __init__(self):
        self.queue: queue.SimpleQueue = queue.SimpleQueue()
        self.wake, self.ring = os.pipe()
        os.set_blocking(self.wake, False)
        os.set_blocking(self.ring, False)
        # poll(2), as multiprocessing.connection.wait: a build that starts no process need not load multiprocessing.
        self.ready = selectors.PollSelector()
        self.ready.register(self.wake, selectors.EVENT_READ)

    def put(self, item) -> None:
        self.queue.put(item)
        try:
            os.write(self.ring, b"\0")
        except BlockingIOError:
            pass  # the pipe is full of wake-ups already: the build will look

    def take(self, timeout: float) -> list:
        """Return what came, waiting up to timeout seconds for something to come."""
        self.ready.select(timeout)
        with contextlib.suppress(BlockingIOError):
            while os.read(self.wake, 4096):
                pass
        items = []
        with contextlib.suppress(queue.Empty):
            while True:
                items.append(self.queue.get_nowait())
        return items

    def close(self) -> None:
        self.ready.close()
        os.close(self.wake)
        os.close(self.ring)
