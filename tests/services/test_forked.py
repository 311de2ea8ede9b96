"""Workers forked from the scan (``services/forked.py``): each sees its own input end when
the scan closes it, whatever was forked after it, holds none of the scan's standard streams,
and ends without returning into the scan's code."""

from __future__ import annotations

import os
import sys
from typing import IO

import pytest

from depaudit.services import forked

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="workers are forked on Linux")


def _read(stream: IO[bytes], seconds: float = 10) -> bytes:
    """What ``stream`` holds up to its end, failing (not hanging) after ``seconds``."""
    import select
    import time

    deadline, out = time.monotonic() + seconds, b""
    while True:
        ready, _, _ = select.select([stream], [], [], max(0.0, deadline - time.monotonic()))
        assert ready, "no end in time"
        chunk = os.read(stream.fileno(), 65536)
        if not chunk:
            return out
        out += chunk


def _until_the_end(source: IO[bytes], sink: IO[bytes]) -> None:
    """Read to the end of the input, then say how much came."""
    sink.write(f"read {len(source.read())}".encode())


def test_each_worker_sees_its_own_input_end(monkeypatch: pytest.MonkeyPatch) -> None:
    """The second worker was forked holding no copy of the first one's input pipe: closing
    it ends the first worker alone, and the second goes on until its own is closed."""
    first, second = forked.start(2, _until_the_end)
    try:
        first.stdin.write(b"abc")
        first.stdin.close()
        assert _read(first.stdout) == b"read 3"
        assert first.wait(timeout=10) == 0
        assert second.poll() is None  # (still reading its own input)
        second.stdin.close()
        assert _read(second.stdout) == b"read 0"
        assert second.wait(timeout=10) == 0
    finally:
        for worker in (first, second):
            worker.kill()
            worker.stdout.close()


def test_a_worker_holds_none_of_the_scans_standard_streams() -> None:
    """Its standard input, output and error are the null device: a reader of the scan's
    report (``depaudit scan | less``) waits for the scan alone."""

    def ready_then_until_the_end(source: IO[bytes], sink: IO[bytes]) -> None:
        sink.write(b"ready")
        sink.flush()
        _until_the_end(source, sink)

    (worker,) = forked.start(1, ready_then_until_the_end)
    try:
        assert worker.stdout.read(5) == b"ready"  # (what it runs runs once it is set up)
        for fd in (0, 1, 2):
            assert os.readlink(f"/proc/{worker.pid}/fd/{fd}") == os.devnull
    finally:
        worker.stdin.close()
        worker.wait(timeout=10)
        worker.stdout.close()


def test_a_worker_that_fails_ends_with_an_exit_code_of_its_own() -> None:
    """An exception in what it runs ends the worker (exit 1); it never returns into the
    code it was forked from (were it to, this test would run twice)."""

    def fails(source: IO[bytes], sink: IO[bytes]) -> None:
        raise RuntimeError("broken")

    (worker,) = forked.start(1, fails)
    assert worker.wait(timeout=10) == 1
    assert _read(worker.stdout) == b""
    worker.stdin.close()
    worker.stdout.close()
