"""Real snapshots of the apps in tests/assets/heap/apps (made by make_snapshots.sh there)."""

from __future__ import annotations

from pathlib import Path

import pytest

HEAP = Path(__file__).resolve().parent.parent / "assets" / "heap"
SNAPSHOTS = HEAP / "snapshots"
APPS = HEAP / "apps"


def snapshots(app: str, *numbers: int) -> list[str]:
    return [str(SNAPSHOTS / app / f"{n}.heapsnapshot.gz") for n in numbers]


def app_line(app: str, text: str) -> int:
    """1-based line of the app's file that contains ``text``."""
    lines = (APPS / app / "app.js").read_text().splitlines()
    return next(n for n, line in enumerate(lines, 1) if text in line)


@pytest.fixture
def write_file(tmp_path: Path):  # type: ignore[no-untyped-def]
    def write(name: str, data: bytes) -> str:
        path = tmp_path / name
        path.write_bytes(data)
        return str(path)

    return write
