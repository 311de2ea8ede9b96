"""``depaudit heap`` through main(argv): formats, exit codes, one-line errors."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest

from depaudit.cli import main

from .conftest import APPS, SNAPSHOTS, snapshots


def test_json_owners(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["heap", *snapshots("debug-leak", 1, 3), "--tree", str(APPS / "debug-leak"),
                 "--format", "json"])  # fmt: skip
    assert code == 0
    document = json.loads(capsys.readouterr().out)
    assert document["mode"] == "growth"
    owner = document["owners"][0]
    assert {k: owner[k] for k in ("kind", "name", "version", "path", "file", "line")} == {
        "kind": "package",
        "name": "debug",
        "version": "3.1.0",
        "path": "node_modules/debug",
        "file": None,
        "line": None,
    }
    assert owner["growth_bytes"] > 0 and owner["growth_objects"] >= 2000
    assert "createDebug.instances[" in owner["retainer_path"]


def test_table_and_markdown(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["heap", *snapshots("two-leaks", 1, 2, 3), "--tree", str(APPS / "two-leaks")]) == 0
    table = capsys.readouterr().out
    assert "1. app.js:" in table and "2. app.js:" in table
    assert "EventEmitter listeners" in table
    tree = str(APPS / "two-leaks")
    assert (
        main(["heap", *snapshots("two-leaks", 1, 3), "--tree", tree, "--format", "markdown"]) == 0
    )
    markdown = capsys.readouterr().out
    assert markdown.startswith("## Measured heap growth")
    assert "| 1 | `app.js:" in markdown


def test_steady_app_reports_nothing_above_the_floor(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["heap", *snapshots("steady", 1, 2, 3)]) == 0
    assert "No owner grew above the noise floor." in capsys.readouterr().out


def _bad(tmp_path: Path, name: str, data: bytes) -> str:
    path = tmp_path / name
    path.write_bytes(data)
    return str(path)


@pytest.mark.parametrize(
    ("name", "data", "words"),
    [
        ("cut.heapsnapshot", b'{"snapshot":{"meta":{"node_fields":["type"', "truncated"),
        ("garbage.heapsnapshot.gz", b"\x1f\x8b\x08\x00garbage", "gzip"),
        ("package.json", b'{"name": "x"}', "not a heap snapshot"),
        (
            "Heap.heapsnapshot",
            (SNAPSHOTS / "debug-leak" / "app.heapprofile.gz").read_bytes(),
            "sampling heap profile",
        ),
    ],
)
def test_bad_input_is_one_line_and_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], name: str, data: bytes, words: str
) -> None:
    bad = _bad(tmp_path, name, data)
    assert main(["heap", snapshots("debug-leak", 1)[0], bad]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and bad in err[0] and words in err[0]


def test_a_truncated_real_snapshot(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = gzip.decompress(Path(snapshots("debug-leak", 3)[0]).read_bytes())
    bad = _bad(tmp_path, "3.heapsnapshot", data[: len(data) * 2 // 3])
    assert main(["heap", snapshots("debug-leak", 1)[0], bad]) == 2
    (line,) = capsys.readouterr().err.strip().splitlines()
    assert "truncated" in line and bad in line


def test_two_processes(capsys: pytest.CaptureFixture[str]) -> None:
    last = snapshots("steady", 3)[0]
    assert main(["heap", snapshots("debug-leak", 1)[0], last]) == 2
    (line,) = capsys.readouterr().err.strip().splitlines()
    assert last in line and "same process" in line


def test_a_profile_among_snapshots(capsys: pytest.CaptureFixture[str]) -> None:
    profile = str(SNAPSHOTS / "debug-leak" / "app.heapprofile.gz")
    assert main(["heap", snapshots("debug-leak", 1)[0], profile]) == 2
    assert ".heapprofile is read on its own" in capsys.readouterr().err


def test_missing_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["heap", str(tmp_path / "nope.heapsnapshot")]) == 2
    assert "nope.heapsnapshot: cannot read" in capsys.readouterr().err
