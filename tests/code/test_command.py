"""``depaudit code`` through main(argv): formats, exit codes, --fail-on, cache, bad input."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from depaudit.cli import main

CORPUS = Path(__file__).parent / "corpus"


def test_table_lists_findings_and_exits_0_without_fail_on(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["code", str(CORPUS / "c20"), "--cache-dir", str(tmp_path)])
    out, err = capsys.readouterr()
    assert code == 0
    assert "uncleared-timer" in out and "leak.js:10:3" in out
    assert "2 files, 1 findings: 1 uncleared-timer" in err


@pytest.mark.parametrize(("fail_on", "expected"), [("high", 1), ("low", 1), ("never", 0)])
def test_fail_on_uses_the_rule_tier(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], fail_on: str, expected: int
) -> None:
    argv = ["code", str(CORPUS / "c02"), "--no-cache", "--fail-on", fail_on]
    assert main(argv) == expected


def test_medium_finding_does_not_fail_on_high(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["code", str(CORPUS / "c08"), "--no-cache", "--fail-on", "high"]) == 0
    assert main(["code", str(CORPUS / "c08"), "--no-cache", "--fail-on", "medium"]) == 1


def test_fail_on_from_the_config_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "app.js").write_text((CORPUS / "c20" / "leak.js").read_text())
    (tmp_path / ".depaudit.toml").write_text('fail-on = "high"\n')
    assert main(["code", str(tmp_path), "--no-cache"]) == 1


def test_json_and_sarif(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out_file = tmp_path / "r.json"
    assert (
        main(
            [
                "code",
                str(CORPUS / "c09"),
                "--no-cache",
                "--format",
                "json",
                "--output",
                str(out_file),
            ]
        )
        == 0
    )
    data = json.loads(out_file.read_text())
    [finding] = data["findings"]
    assert finding["rule"] == "listener-leak"
    assert (finding["file"], finding["line"], finding["package"]) == ("leak.js", 11, "ioredis")
    assert finding["evidence"][0].startswith("added in: the 'connection' handler of io")
    main(["code", str(CORPUS / "c09"), "--no-cache", "--format", "sarif"])
    sarif = json.loads(capsys.readouterr().out)
    [result] = sarif["runs"][0]["results"]
    region = result["locations"][0]["physicalLocation"]["region"]
    assert result["ruleId"] == "listener-leak" and region["startLine"] == 11
    uri = result["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
    assert uri.endswith("c09/leak.js")
    assert {r["id"] for r in sarif["runs"][0]["tool"]["driver"]["rules"]} >= {"listener-leak"}


def test_markdown(capsys: pytest.CaptureFixture[str]) -> None:
    main(["code", str(CORPUS / "c15"), "--no-cache", "--format", "markdown"])
    out = capsys.readouterr().out
    assert "| growing-collection | leak.js:8 |" in out


def test_warm_run_reads_the_cache_and_gives_the_same_findings(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["code", str(CORPUS), "--cache-dir", str(tmp_path), "--format", "json"]
    main(argv)
    cold = json.loads(capsys.readouterr().out)
    main(argv)
    warm = json.loads(capsys.readouterr().out)
    assert warm["findings"] == cold["findings"]
    assert cold["summary"]["cached"] == 0
    assert warm["summary"]["cached"] == warm["summary"]["files"] > 50


def test_missing_folder_is_exit_2_with_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["code", str(tmp_path / "nope"), "--no-cache"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "does not exist" in err


def test_parallel_workers_give_the_same_findings(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from depaudit.code import engine
    from depaudit.code.engine import scan_code

    serial = scan_code(CORPUS, jobs=1)
    old = engine.PARALLEL_THRESHOLD
    engine.PARALLEL_THRESHOLD = 1
    try:
        parallel = scan_code(CORPUS, jobs=2)
    finally:
        engine.PARALLEL_THRESHOLD = old
    assert parallel.findings == serial.findings


def test_workers_come_from_a_fork_server_once_threads_run() -> None:
    """A scan runs the code scan beside the registry's fetch and its threads: a fork of a
    process with threads can copy a lock one of them holds, so the workers then come from a
    fork server, and find the same."""
    import multiprocessing
    import sys
    import threading

    from depaudit.code import engine
    from depaudit.code.engine import scan_code

    serial = scan_code(CORPUS, jobs=1)
    release = threading.Event()
    other = threading.Thread(target=release.wait, args=(30,))
    other.start()
    old = engine.PARALLEL_THRESHOLD
    engine.PARALLEL_THRESHOLD = 1
    try:
        context = engine._workers_context()
        parallel = scan_code(CORPUS, jobs=2)
    finally:
        engine.PARALLEL_THRESHOLD = old
        release.set()
        other.join()
    if sys.platform.startswith("linux"):
        assert context.get_start_method() == "forkserver"
    else:
        assert context.get_start_method() in ("forkserver", "spawn")
    assert parallel.findings == serial.findings and parallel.files == serial.files
    if threading.active_count() == 1 and multiprocessing.get_start_method() == "fork":
        assert engine._workers_context().get_start_method() == "fork"  # `depaudit code`


@pytest.mark.parametrize("jobs", [1, 2])
def test_a_stopped_code_scan_raises_and_leaves_no_worker(
    jobs: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An interrupted scan stops its code scan: after the files being analysed (in this
    process, or in the workers), never after all of them."""
    import threading

    from depaudit.code import engine
    from depaudit.code.engine import Stopped, scan_code

    monkeypatch.setattr(engine, "PARALLEL_THRESHOLD", 1)
    monkeypatch.setattr(engine, "CHUNK", 1)
    stop = threading.Event()
    analysed: list[int] = []
    real = engine._analyse_job

    def counted(job: tuple[bytes, engine.Grammar]) -> object:
        analysed.append(1)  # in this process only (jobs=1)
        stop.set()  # the interrupt comes during the first file
        return real(job)

    if jobs == 1:
        monkeypatch.setattr(engine, "_analyse_job", counted)
    else:
        stop.set()
    with pytest.raises(Stopped):
        scan_code(CORPUS, jobs=jobs, stop=stop)
    if jobs == 1:
        assert analysed == [1]
    # the pool was shut down: its manager thread (and so its workers) ended with the scan
    assert not [t for t in threading.enumerate() if type(t).__name__ == "_ExecutorManagerThread"]


def test_without_a_process_pool_the_files_are_analysed_here(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Where no process pool can be made (no usable /dev/shm for its locks, as in some
    containers and serverless runtimes: ``OSError: [Errno 38] Function not implemented``),
    the code scan gives the same findings, one file after another, instead of failing."""
    import concurrent.futures

    from depaudit.code import engine
    from depaudit.code.engine import scan_code

    serial = scan_code(CORPUS, jobs=1)

    def no_pool(*args: object, **kwargs: object) -> object:
        raise OSError(38, "Function not implemented")

    monkeypatch.setattr(concurrent.futures, "ProcessPoolExecutor", no_pool)
    monkeypatch.setattr(engine, "PARALLEL_THRESHOLD", 1)
    fallback = scan_code(CORPUS, jobs=2)
    assert fallback.findings == serial.findings and fallback.files == serial.files
    assert fallback.findings  # the corpus has leaks to find


@pytest.mark.parametrize("kills", [1, 2])
def test_a_worker_that_dies_costs_a_retry_then_an_honest_warning(
    kills: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A code worker killed mid-scan (the OOM killer of a container under a memory peak)
    breaks its pool. The files it had not finished go to a new pool once; if that one dies
    too, they are named in one warning as not analysed: never an internal error for the
    whole scan, never analysed in the scan's own process (which the same file could kill)."""
    import concurrent.futures
    import os
    import signal

    from depaudit.code import engine
    from depaudit.code.engine import scan_code

    serial = scan_code(CORPUS, jobs=1)
    left = [kills]
    real = concurrent.futures.ProcessPoolExecutor

    class Dying(real):  # type: ignore[misc, valid-type]
        def submit(self, *args: object, **kwargs: object) -> object:
            future = super().submit(*args, **kwargs)
            if left[0] and self._processes and not getattr(self, "killed", False):
                left[0] -= 1  # the pool's first worker is up: it dies
                self.killed = True
                os.kill(next(iter(self._processes)), signal.SIGKILL)
            return future

    monkeypatch.setattr(concurrent.futures, "ProcessPoolExecutor", Dying)
    monkeypatch.setattr(engine, "PARALLEL_THRESHOLD", 1)
    monkeypatch.setattr(engine, "CHUNK", 2)
    report = scan_code(CORPUS, jobs=2)
    assert left == [0]  # the kills happened
    if kills < engine.POOL_ATTEMPTS:
        assert report.findings == serial.findings and report.warnings == ()
    else:
        (warning,) = report.warnings
        assert engine.WORKER_DIED in warning and "their findings are unknown" in warning
        lost = int(warning.split(" files not analysed")[0])
        assert 0 < lost <= serial.files
        assert len(report.findings) < len(serial.findings) or lost < serial.files
