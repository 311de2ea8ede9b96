"""depaudit.http pieces that the scan-level fault tests (tests/faults/) do not reach alone."""

from __future__ import annotations

import platform

import pytest

from depaudit import http


@pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="mallopt is glibc's")
def test_the_mmap_threshold_is_fixed_once_on_glibc() -> None:
    assert http.fixed_mmap_threshold() is True
    assert http.fixed_mmap_threshold() is True  # the answer is remembered
