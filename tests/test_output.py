"""``--output``: special files written in place, modes kept, the temporary file removed on
SIGTERM; and reports that encode whatever the inputs held (lone surrogates)."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from depaudit.cli import main
from depaudit.output import write_report

SURROGATE_LOCK = (
    '{"name": "x\\ud800", "lockfileVersion": 3, "packages": {'
    '"": {"name": "x\\ud800", "dependencies": {"a\\udc00": "1"}},'
    '"node_modules/a\\udc00": {"version": "1.0.0\\ud800"}}}'
)


def _tmp_files(folder: Path) -> list[str]:
    return [p.name for p in folder.iterdir() if p.name.endswith(".tmp")]


def test_existing_file_keeps_its_mode(tmp_path: Path) -> None:
    target = tmp_path / "report.txt"
    target.write_text("old\n")
    target.chmod(0o644)
    write_report(target, "new\n")
    assert target.read_text() == "new\n"
    assert stat.S_IMODE(target.stat().st_mode) == 0o644  # was turned into 0600
    target.chmod(0o640)
    write_report(target, "newer\n")
    assert stat.S_IMODE(target.stat().st_mode) == 0o640


@pytest.mark.parametrize(("umask", "mode"), [(0o022, 0o644), (0o077, 0o600), (0o002, 0o664)])
def test_new_file_follows_the_umask(tmp_path: Path, umask: int, mode: int) -> None:
    old = os.umask(umask)
    try:
        write_report(tmp_path / "new.txt", "x\n")
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "new.txt").stat().st_mode) == mode


def test_a_device_is_written_not_replaced(tmp_path: Path) -> None:
    write_report(Path(os.devnull), "report\n")
    assert stat.S_ISCHR(os.stat(os.devnull).st_mode)
    assert _tmp_files(Path(os.devnull).parent) == []


def test_a_fifo_receives_the_report(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    got: list[bytes] = []
    reader = threading.Thread(target=lambda: got.append(fifo.read_bytes()))
    reader.start()
    write_report(fifo, "through the pipe\n")
    reader.join(timeout=30)
    assert got == [b"through the pipe\n"]
    assert stat.S_ISFIFO(fifo.lstat().st_mode)
    assert _tmp_files(tmp_path) == []


def test_a_symlink_is_kept_and_its_target_replaced(tmp_path: Path) -> None:
    real = tmp_path / "real.txt"
    real.write_text("old\n")
    link = tmp_path / "link.txt"
    link.symlink_to(real)
    write_report(link, "new\n")
    assert link.is_symlink() and real.read_text() == "new\n"


def test_sigterm_while_writing_removes_the_temporary_file(tmp_path: Path) -> None:
    """SIGTERM arrives between writing the temporary file and the rename."""
    target = tmp_path / "report.txt"
    target.write_text("old\n")
    script = (
        "import os, signal, sys\n"
        "from pathlib import Path\n"
        "from depaudit.output import write_report\n"
        "os.replace = lambda *a: os.kill(os.getpid(), signal.SIGTERM)\n"
        f"write_report(Path({str(target)!r}), 'new\\n')\n"
        "print('not reached')\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, timeout=60)
    assert done.returncode == -15, done.stderr
    assert b"not reached" not in done.stdout
    assert target.read_text() == "old\n"
    assert _tmp_files(tmp_path) == []


@pytest.mark.parametrize("fmt", ["table", "json", "markdown", "sarif"])
def test_lone_surrogates_reach_no_report(
    fmt: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    lock = tmp_path / "package-lock.json"
    lock.write_text(SURROGATE_LOCK)
    out = tmp_path / f"report.{fmt}"
    args = ["scan", "--offline", "--lockfile", str(lock), "--format", fmt]
    assert main([*args, "--output", str(out)]) == 0, capsys.readouterr().err
    text = out.read_text(encoding="utf-8")
    if fmt == "json":
        assert "a\ufffd" in json.dumps(json.loads(text), ensure_ascii=False)
    elif fmt == "sarif":
        json.loads(text)
    assert main(args) == 0
    captured = capsys.readouterr()
    captured.out.encode("utf-8")
    assert "internal error" not in captured.err


def test_lone_surrogates_in_a_diff(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    base = tmp_path / "base" / "package-lock.json"
    head = tmp_path / "head" / "package-lock.json"
    base.parent.mkdir()
    head.parent.mkdir()
    base.write_text('{"lockfileVersion": 3, "packages": {"": {}}}')
    head.write_text(SURROGATE_LOCK)
    for fmt in ("markdown", "json"):
        code = main(["diff", str(base), str(head), "--offline", "--format", fmt])
        captured = capsys.readouterr()
        assert code == 0, captured.err
        captured.out.encode("utf-8")


@given(st.text(max_size=40), st.integers(min_value=1, max_value=7))
def test_written_a_slice_at_a_time_is_the_text(text: str, size: int) -> None:
    """Reports are encoded and written a slice at a time (peak memory); the bytes are the
    text's, wherever a slice boundary falls (inside a line break, next to a multi-byte
    character)."""
    import io

    from depaudit import output

    text = text.encode("utf-8", "ignore").decode("utf-8")  # no lone surrogate
    buffer = io.BytesIO()
    handle = io.TextIOWrapper(buffer, encoding="utf-8", newline="\n", write_through=True)
    old = output.WRITE_SLICE
    output.WRITE_SLICE = size
    try:
        output.write_text(handle, text)
    finally:
        output.WRITE_SLICE = old
    handle.flush()
    assert buffer.getvalue() == text.encode("utf-8")


@given(st.lists(st.text(max_size=12), max_size=6), st.integers(min_value=1, max_value=5))
def test_a_text_given_in_pieces_is_written_as_the_whole_would_be(
    pieces: list[str], size: int
) -> None:
    """A report can be handed over in pieces (the JSON report is, so a 50,000-package text is
    never whole): the bytes are those of the whole text, lone surrogates replaced the same
    wherever a piece ends."""
    import io

    from depaudit import output
    from depaudit.text import valid_unicode

    buffer = io.BytesIO()
    handle = io.TextIOWrapper(buffer, encoding="utf-8", newline="\n", write_through=True)
    old = output.WRITE_SLICE
    output.WRITE_SLICE = size
    try:
        output.write_text(handle, iter(pieces))
    finally:
        output.WRITE_SLICE = old
    handle.flush()
    assert buffer.getvalue() == valid_unicode("".join(pieces)).encode("utf-8")
