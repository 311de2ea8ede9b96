"""Sampling heap profiles (node --heap-prof) of the same real apps."""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest

from depaudit.errors import InputError
from depaudit.heap.profile import analyze_profile

from .conftest import APPS, SNAPSHOTS, app_line


def test_debug_instances_in_a_heap_profile() -> None:
    result = analyze_profile(SNAPSHOTS / "debug-leak" / "app.heapprofile.gz", APPS / "debug-leak")
    assert result.mode == "profile"
    by_label = {o.label: o for o in result.owners}
    debug = by_label["debug@3.1.0"]
    assert debug.path == "node_modules/debug"
    assert "handle (app.js:" in debug.retainer_path
    assert "createDebug (node_modules/debug/src/debug.js:" in debug.retainer_path
    # the request handler of the app is an owner too, at the line it is written
    assert f"app.js:{app_line('debug-leak', 'function handle')}" in by_label
    packages = [o for o in result.owners if o.kind == "package"]
    assert packages[0].name == "debug"


def test_session_profile_names_express_session() -> None:
    result = analyze_profile(SNAPSHOTS / "session-leak" / "app.heapprofile.gz", None)
    packages = [o.name for o in result.owners if o.kind == "package"]
    assert packages[0] == "express-session"


@pytest.mark.parametrize(
    ("data", "words"),
    [
        (b'{"head":{"callFrame":{"url":""},"children":[', "truncated heap profile"),
        (b"\x1f\x8bnot gzip", "gzip"),
        (b'{"snapshot":{},"nodes":[]}', "heap snapshot, not"),
        (b'{"nodes":[]}', "no head call frame"),
        (b"hello", "not JSON"),
    ],
)
def test_bad_profiles(tmp_path: Path, data: bytes, words: str) -> None:
    path = tmp_path / "x.heapprofile"
    path.write_bytes(data)
    with pytest.raises(InputError, match=words):
        analyze_profile(path)


def test_gzipped_profile_equals_plain(tmp_path: Path) -> None:
    plain = tmp_path / "p.heapprofile"
    plain.write_bytes(gzip.decompress((SNAPSHOTS / "steady" / "app.heapprofile.gz").read_bytes()))
    a = analyze_profile(plain)
    b = analyze_profile(SNAPSHOTS / "steady" / "app.heapprofile.gz")
    assert a.owners == b.owners and a.total_bytes == b.total_bytes > 0
