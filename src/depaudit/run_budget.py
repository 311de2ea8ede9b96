"""The run's network budget (README "Resource budget"): :class:`RunBudget`, what one run may
spend on the network over all its requests, and the :class:`Watchdog` that expires it. A
module of its own, without the HTTP stack, so that a scan whose fetch runs in fetch workers
(``services/fetch_worker.py``) keeps the budget without importing ``requests``
(:mod:`depaudit.http` re-exports every name here, and wraps its connection pools)."""

from __future__ import annotations

import contextlib
import socket
import threading
import time
import weakref
from collections.abc import Callable

from depaudit.budget import NETWORK_SECONDS as RUN_NETWORK_SECONDS
from depaudit.budget import RESPONSE_BYTES as RUN_RESPONSE_BYTES


class BodyTooLarge(Exception):
    """A response body exceeded the configured cap."""


class BudgetSpent(BodyTooLarge):
    """The run's network time or response bytes are spent (see :class:`RunBudget`)."""


class RunBudget:
    """What one run may spend on the network, over all its requests: ``seconds`` of wall time
    from its creation, with the session's or, where the scan makes it alone, just before the
    registry's first requests (``RegistryService.budget``): a registry sending a byte a
    second, or 429 with a long Retry-After on every request, ends there; and ``max_bytes`` of
    decoded response bodies: a gzip bomb on every packument stops there, not at the
    per-response cap times the number of packages. Thread-safe; shared by the session's
    requests."""

    def __init__(
        self,
        seconds: float = RUN_NETWORK_SECONDS,
        max_bytes: int = RUN_RESPONSE_BYTES,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.seconds = seconds
        self.max_bytes = max_bytes
        self.clock = clock
        self.started = clock()
        self.deadline = self.started + seconds
        self.waited = 0.0  # time left out of the run's (wait_off)
        self.used = 0
        self._lock = threading.Lock()
        self._sockets: weakref.WeakSet[socket.socket] = weakref.WeakSet()
        self._expired = False

    def remaining(self) -> float:
        return max(0.0, self.deadline - self.clock())

    def out_of_time(self) -> bool:
        return self._expired or self.clock() >= self.deadline

    def check(self) -> None:
        """Raise BudgetSpent when the time or the bytes are spent."""
        if self.out_of_time():
            raise BudgetSpent(
                f"the network time budget of {self.seconds:g} s per run is spent (--network-budget)"
            )
        if self.used > self.max_bytes:
            raise BudgetSpent(
                f"the response budget of {self.max_bytes} bytes per run is spent "
                "(--response-budget)"
            )

    def allow(self, max_bytes: int = 0, seconds: float = 0.0) -> None:
        """Raise the response budget to at least ``max_bytes`` and the time budget to at
        least ``seconds`` from the start (a run sized by its tree); not once expired."""
        with self._lock:
            self.max_bytes = max(self.max_bytes, max_bytes)
            if seconds > self.seconds and not self._expired:
                self.seconds = seconds
                self.deadline = self.started + self.waited + seconds

    def wait_off(self, seconds: float) -> None:
        """Leave ``seconds`` out of the run's time: the run waited on something else with
        no request in flight (``npm ls``, after the fetch begun beside it had ended:
        ``RegistryService.begin``); not once expired."""
        with self._lock:
            if seconds > 0 and not self._expired and self.clock() < self.deadline:
                self.waited += seconds
                self.deadline += seconds

    def take(self, size: int) -> None:
        with self._lock:
            self.used += size
        self.check()

    def watch(self, sock: socket.socket) -> None:
        """Shut ``sock`` down when the deadline passes: a read blocked on it then ends, even
        a server's status line or headers arriving a byte a second (each byte within the
        read timeout) or a body's; at once when the deadline has passed already."""
        with self._lock:
            expired = self._expired
            if not expired:
                self._sockets.add(sock)
        if expired:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            return
        WATCHDOG.add(self)

    def expire(self) -> None:
        """The deadline passed (the watchdog's thread): every watched socket is shut down."""
        with self._lock:
            self._expired = True
            sockets = list(self._sockets)
            self._sockets.clear()
        for sock in sockets:
            with contextlib.suppress(OSError):  # closed, or detached by TLS wrapping
                sock.shutdown(socket.SHUT_RDWR)


class Watchdog:
    """One daemon thread for the process: it expires each watched :class:`RunBudget` when
    its deadline passes (budgets are held weakly, the thread starts with the first one)."""

    POLL = 5.0  # seconds: also re-reads budgets whose clock is not the wall's

    def __init__(self) -> None:
        self._budgets: weakref.WeakSet[RunBudget] = weakref.WeakSet()
        self._cond = threading.Condition()
        self._thread: threading.Thread | None = None

    def add(self, budget: RunBudget) -> None:
        with self._cond:
            if budget in self._budgets:
                return
            self._budgets.add(budget)
            if self._thread is None or not self._thread.is_alive():  # (none in a forked copy)
                self._thread = threading.Thread(
                    target=self._run, name="depaudit-deadline", daemon=True
                )
                self._thread.start()
            self._cond.notify()

    def _run(self) -> None:
        while True:
            with self._cond:
                due = [b for b in self._budgets if b.remaining() <= 0]
                for budget in due:
                    self._budgets.discard(budget)
                wait = min((b.remaining() for b in self._budgets), default=self.POLL)
            for budget in due:
                budget.expire()
            with self._cond:
                self._cond.wait(timeout=min(max(wait, 0.01), self.POLL))


WATCHDOG = Watchdog()
