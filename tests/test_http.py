"""depaudit.http pieces that the scan-level fault tests (tests/faults/) do not reach alone."""

from __future__ import annotations

import platform

import pytest

from depaudit import http


@pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="mallopt is glibc's")
def test_the_mmap_threshold_is_fixed_once_on_glibc() -> None:
    assert http.fixed_mmap_threshold() is True
    assert http.fixed_mmap_threshold() is True  # the answer is remembered


# a fresh interpreter reports where a 1 MiB block comes from after the given setting: mapped
# by itself (mallinfo2's hblkhd grows by it) or carved from the heap
_WHERE_A_BODY_GOES = """
import ctypes, sys
from depaudit import http
class Info(ctypes.Structure):
    _fields_ = [(n, ctypes.c_size_t) for n in
                ("arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks", "fsmblks",
                 "uordblks", "fordblks", "keepcost")]
mallinfo2 = ctypes.CDLL(None).mallinfo2
mallinfo2.restype = Info
ok = http.fixed_mmap_threshold()
if sys.argv[1] == "worker":
    ok = http.heap_for_bodies() and ok
    ok = http.fixed_mmap_threshold() and ok  # (a session built after: the worker's stays)
before = mallinfo2().hblkhd
body = bytearray(1 << 20)
print(ok, mallinfo2().hblkhd - before >= 1 << 20)
"""


@pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="mallopt is glibc's")
@pytest.mark.parametrize(("where", "mapped"), [("scan", True), ("worker", False)])
def test_a_fetch_workers_bodies_come_from_its_heap(where: str, mapped: bool) -> None:
    """The scan's process maps each body by itself (its fetch threads' arenas fragmented);
    a fetch worker takes them from its heap, whose freed pages the next body reuses."""
    import subprocess
    import sys

    out = subprocess.run(
        [sys.executable, "-c", _WHERE_A_BODY_GOES, where],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    assert out == ["True", str(mapped)]
