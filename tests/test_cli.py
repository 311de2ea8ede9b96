"""The command line shell: version, help, errors."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from conftest import ASSETS, modules_loaded
from depaudit import __version__
from depaudit.cli import main


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--version"]) == 0
    assert capsys.readouterr().out.strip() == f"depaudit {__version__}"


def test_python_dash_m_runs() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "depaudit", "--version"], capture_output=True, text=True
    )
    assert result.returncode == 0
    assert __version__ in result.stdout


def test_the_program_writes_a_whole_report_to_a_pipe_and_keeps_its_exit_code(
    tmp_path: Path,
) -> None:
    """``python -m depaudit`` ends through ``cli.end`` (no interpreter teardown): a report
    much larger than a pipe's buffer still arrives whole, and the scan's exit code (1: a
    suspect at the gate) is the process's."""
    argv = [sys.executable, "-m", "depaudit", "scan", str(EXAMPLE), "--offline"]
    argv += ["--cache-dir", str(tmp_path), "--format", "json", "--fail-on", "high"]
    result = subprocess.run(argv, capture_output=True, timeout=120)
    assert result.returncode == 1, result.stderr
    assert len(result.stdout) > 65536  # more than one pipe buffer: written out before the end
    report = json.loads(result.stdout)
    assert report["suspects"]
    bad = subprocess.run(
        [*argv[:4], "--lockfile", str(tmp_path / "none.json")], capture_output=True
    )
    assert bad.returncode == 2 and bad.stdout == b""
    assert bad.stderr.decode().count("\n") == 1


END = r"""
import atexit, sys, threading, time
from depaudit.cli import end
atexit.register(lambda: print("atexit ran", flush=False))
sys.stdout.write("buffered, not flushed\n")
if sys.argv[1] == "thread":
    def late() -> None:
        time.sleep(0.3)
        print("the thread finished")
    threading.Thread(target=late).start()
end(int(sys.argv[2]))
print("never")
"""


@pytest.mark.parametrize("thread", ["none", "thread"])
def test_end_flushes_runs_atexit_and_waits_for_a_running_thread(thread: str) -> None:
    """``cli.end``: what a normal exit does that matters still happens (buffered output,
    atexit functions), and where a thread that is not a daemon still runs, the ordinary exit
    waits for it."""
    result = subprocess.run(
        [sys.executable, "-c", END, thread, "3"], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 3
    lines = result.stdout.splitlines()
    assert lines[0] == "buffered, not flushed"
    assert "atexit ran" in lines and "never" not in lines
    assert ("the thread finished" in lines) == (thread == "thread")


POOL = r"""
import threading
from concurrent.futures import ProcessPoolExecutor

from depaudit.cli import end

held = []


def start() -> None:  # from a daemon thread, as the code scan's pool is made
    pool = ProcessPoolExecutor(2)
    assert pool.submit(abs, -1).result() == 1
    held.append(pool)  # its workers wait for work, never shut down


thread = threading.Thread(target=start, daemon=True)
thread.start()
thread.join()
end(5)
"""


def test_end_with_a_process_pool_still_up_ends(tmp_path: Path) -> None:
    """Ctrl-C while the scan waited for the code scan left its process pool up, its
    manager thread a daemon. multiprocessing's atexit function then waited for workers
    that nobody had told to end, for ever: ``end`` takes the ordinary exit (which tells
    the pool) while multiprocessing has children."""
    result = subprocess.run(
        [sys.executable, "-c", POOL], capture_output=True, text=True, timeout=60, cwd=tmp_path
    )
    assert result.returncode == 5, result.stderr


def test_the_program_leaves_its_scan_uncollected_and_unfreed_a_library_call_does_not(
    tmp_path: Path,
) -> None:
    """As the program (``cli.run``), the scan's objects are frozen out of the collector and
    kept to the process's end, which frees them all at once; ``main`` called as a library
    (here, in this process) leaves the collector as it was and keeps nothing."""
    import gc

    from depaudit import gcpause

    script = (
        "import gc, sys\n"
        "from depaudit import cli\n"
        "real = cli.end\n"
        "from depaudit import gcpause\n"
        "def end(code):\n"
        "    print('frozen', gc.get_freeze_count(), 'kept', len(gcpause._kept),"
        " 'on', gc.isenabled(), file=sys.stderr)\n"
        "    real(code)\n"
        "cli.end = end\n"
        f"sys.argv = ['depaudit', 'scan', {str(EXAMPLE)!r}, '--offline', '--format', 'json',"
        f" '--cache-dir', {str(tmp_path)!r}]\n"
        "cli.run()\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert done.returncode == 0 and done.stdout.startswith("{"), done.stderr
    (line,) = [text for text in done.stderr.splitlines() if text.startswith("frozen ")]
    words = line.split()
    assert int(words[1]) > 10_000
    assert words[2:] == ["kept", "1", "on", "True"]

    assert main(["scan", str(EXAMPLE), "--offline", "--cache-dir", str(tmp_path)]) == 0
    assert gc.isenabled() and gc.get_freeze_count() == 0 and gcpause._kept == []


def test_no_command_prints_help_and_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([]) == 2
    assert "scan" in capsys.readouterr().err


def test_empty_folder_says_what_it_looked_for(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["scan", str(tmp_path)]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    err = captured.err.strip()
    assert err.count("\n") == 0
    assert str(tmp_path) in err
    assert "package-lock.json" in err and "npm-shrinkwrap.json" in err


def test_bad_env_boolean_is_a_config_error(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("DEPAUDIT_NO_NPM", "maybe")
    assert main(["scan", "."]) == 2
    assert "DEPAUDIT_NO_NPM" in capsys.readouterr().err


def test_a_workspace_folder_points_at_the_root_lockfile(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = tmp_path / "mono"
    (root / "packages" / "api").mkdir(parents=True)
    (root / "package.json").write_text('{"name": "mono", "workspaces": ["packages/*"]}')
    (root / "package-lock.json").write_text(
        '{"name": "mono", "lockfileVersion": 3, "packages": {}}'
    )
    (root / "packages" / "api" / "package.json").write_text('{"name": "api"}')
    assert main(["scan", str(root / "packages" / "api")]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0
    assert f"{root / 'package-lock.json'} is a lockfile above this folder" in err
    assert f"scan {root}" in err


# -- numbers, choices and their DEPAUDIT_* twins; usage errors in one line (16.10, 19.7, 19.18)

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "express-app"


@pytest.mark.parametrize(
    "args",
    [
        ["--jobs", "abc"],
        ["--jobs", "0"],
        ["--jobs", "1e3"],
        ["--npm-timeout", "nan"],
        ["--npm-timeout", "inf"],
        ["--npm-timeout", "-1"],
        ["--npm-timeout", "abc"],
        ["--format", "xml"],
        ["--fail-on", "bogus"],
        ["--no-such-flag"],
    ],
)
def test_bad_flag_values_are_one_usage_line(
    args: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["scan", str(EXAMPLE), "--offline", *args]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.count("\n") == 1, captured.err
    assert captured.err.startswith("depaudit scan: error: ") or captured.err.startswith(
        "depaudit: error: "
    )
    assert "--help" in captured.err


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("DEPAUDIT_JOBS", "abc"),
        ("DEPAUDIT_JOBS", "nan"),
        ("DEPAUDIT_NPM_TIMEOUT", "nan"),
        ("DEPAUDIT_NPM_TIMEOUT", "0"),
        ("DEPAUDIT_CACHE_TTL", "nan"),
        ("DEPAUDIT_FORMAT", "xml"),
        ("DEPAUDIT_FAIL_ON", "bogus"),
        ("DEPAUDIT_DIFF_FORMAT", "table"),
        ("DEPAUDIT_NO_NPM", "maybe"),
    ],
)
def test_bad_environment_values_are_checked_like_their_flags(
    variable: str, value: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv(variable, value)
    assert main(["scan", str(EXAMPLE), "--offline"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert err.startswith(f"depaudit: error: {variable}")


def test_good_environment_values_still_apply(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    monkeypatch.setenv("DEPAUDIT_FORMAT", "json")
    monkeypatch.setenv("DEPAUDIT_JOBS", "3")
    monkeypatch.setenv("DEPAUDIT_NPM_TIMEOUT", "2.5")
    monkeypatch.setenv("DEPAUDIT_CACHE_DIR", str(tmp_path))
    assert main(["scan", str(EXAMPLE), "--offline"]) == 0
    assert capsys.readouterr().out.startswith("{")


@pytest.mark.parametrize("url", ["http://[::1/", "http://host:99999/", "ftp://host/"])
def test_malformed_registry_url_is_one_line(
    url: str, capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("DEPAUDIT_NO_REGISTRY")
    code = main(["scan", str(EXAMPLE), "--registry", url, "--cache-dir", str(tmp_path)])
    assert code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "is not an http(s) URL" in err


def test_help_shows_only_real_defaults(capsys: pytest.CaptureFixture[str]) -> None:
    for command in (["scan"], ["diff"], ["explain"], ["db"], ["cache"], ["github", "action-run"]):
        assert main([*command, "--help"]) == 0
        out = capsys.readouterr().out
        assert "default: None" not in out and "default: False" not in out, command
    assert main(["scan", "--help"]) == 0
    assert "default: 32" in capsys.readouterr().out  # a real default is still shown


def test_debug_is_accepted_after_the_command(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import depaudit.cli as cli

    def boom(*args: object, **kwargs: object) -> int:
        raise RuntimeError("a bug")

    monkeypatch.setattr(cli, "run_scan", boom)
    assert main(["scan", str(EXAMPLE)]) == 4
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "--debug, before or after the command" in err
    assert main(["scan", str(EXAMPLE), "--debug"]) == 4
    assert "Traceback" in capsys.readouterr().err
    assert main(["--debug", "scan", str(EXAMPLE)]) == 4
    assert "Traceback" in capsys.readouterr().err


def test_db_update_refuses_no_advisories(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["db", "update", "--no-advisories"]) == 2
    assert "unrecognized arguments: --no-advisories" in capsys.readouterr().err


@pytest.mark.parametrize("key", ["fail_on", "failon", "ignores", "Fail-On"])
def test_config_file_typos_are_configuration_errors(
    key: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / ".depaudit.toml"
    config.write_text(f'{key} = "high"\n')
    code = main(["scan", str(EXAMPLE), "--offline", "--config", str(config)])
    assert code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and f"unknown key {key!r}" in err and str(config) in err


def test_fail_on_names_the_suspects_that_tripped_it(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """issue 16.14: exit 1 says which suspects are at or above the gate."""
    args = ["scan", str(EXAMPLE), "--offline", "--cache-dir", str(tmp_path)]
    assert main([*args, "--fail-on", "high"]) == 1
    err = capsys.readouterr().err
    (line,) = [x for x in err.splitlines() if "--fail-on" in x]
    # request is medium since issue 18 (its deprecation is maintenance evidence, not a leak)
    assert line.startswith("depaudit: --fail-on high: 1 suspects at or above high: ")
    assert "socket.io-redis@5.4.0 (high, 85.5)" in line and "request@2.88.2" not in line
    assert "debug@" not in line  # medium ones did not trip a high gate
    assert main([*args, "--fail-on", "never"]) == 0
    assert "--fail-on" not in capsys.readouterr().err


def test_an_offline_scan_loads_no_network_stack(tmp_path: Path) -> None:
    """Start-up cost: ``import depaudit.cli`` and an offline scan without the registry import
    neither requests nor urllib3 (they are imported when a request is about to be made), nor
    npm's configuration (read for the registry alone: ``Settings.online_registry``), nor
    OpenSSL for a digest."""
    lock = ASSETS / "projects" / "broken" / "package-lock.json"
    code = (
        "import sys, io, contextlib\n"
        "import depaudit.cli\n"
        "assert 'requests' not in sys.modules and 'urllib3' not in sys.modules\n"
        "assert 'depaudit.github.action_run' not in sys.modules\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n"
        f"    depaudit.cli.main(['scan', '--lockfile', {str(lock)!r}, '--offline',\n"
        f"        '--no-registry', '--no-npm', '--no-code', '--cache-dir', {str(tmp_path)!r}])\n"
    )
    unwanted = ("requests", "urllib3", "http.client", "depaudit.npmrc", "depaudit.npm_process")
    unwanted += ("_hashlib",)  # (OpenSSL: its digests come from depaudit.digests)
    assert modules_loaded(code, unwanted) == []


@pytest.mark.parametrize(
    "how", [["--lockfile", "{lock}"], ["--lockfile", "{lock}", "--no-npm"], ["{folder}"]]
)
def test_a_lockfile_scan_loads_no_npm_ls_code(tmp_path: Path, how: list[str]) -> None:
    """Start-up cost: a scan whose tree is a lockfile alone (``--lockfile``, or a folder
    without node_modules) imports none of npm ls's code (~7 ms: its runner, its reader and
    its graph), which only a scan of an installed tree or of saved npm ls output needs."""
    folder = tmp_path / "project"
    folder.mkdir()
    lock = folder / "package-lock.json"
    lock.write_bytes((ASSETS / "projects" / "broken" / "package-lock.json").read_bytes())
    args = [a.format(lock=lock, folder=folder) for a in how]
    code = (
        "import io, contextlib\n"
        "import depaudit.cli\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n"
        f"    depaudit.cli.main(['scan', *{args!r}, '--offline', '--no-registry', '--no-code',\n"
        f"        '--cache-dir', {str(tmp_path / 'cache')!r}])\n"
    )
    unwanted = ("depaudit.sources.npm_ls_run", "depaudit.sources.npm_ls")
    assert modules_loaded(code, unwanted) == []


def test_the_cache_command_loads_no_models(tmp_path: Path) -> None:
    """Start-up cost: ``depaudit cache info`` reads the cache without the scan's models
    (their dataclasses take ~20 ms to generate): the cache's ``CacheEntry`` gets its
    ``__init__`` from ``depaudit.slots``, not from ``depaudit.models``."""
    code = (
        "import io, contextlib\n"
        "import depaudit.cli\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n"
        f"    depaudit.cli.main(['cache', 'info', '--cache-dir', {str(tmp_path)!r}])\n"
    )
    assert modules_loaded(code, ("depaudit.cache", "depaudit.models")) == ["depaudit.cache"]


HEAVY = ("requests", "urllib3", "yaml", "nodesemver", "numpy", "numba", "tree_sitter", "tabulate")


def test_importing_the_cli_loads_no_heavy_library() -> None:
    """Start-up cost (issue 17): ``import depaudit.cli`` imports none of the libraries that only
    some runs need: the network stack, YAML, node-semver, the heap and code analysers."""
    assert modules_loaded("import depaudit.cli", HEAVY) == []


def test_a_second_offline_scan_reads_no_yaml(tmp_path: Path) -> None:
    """The bundled data is read from its fast form (depaudit.bundled) once it was built: the
    second offline scan of a package-lock imports neither PyYAML nor the table renderer. (The
    forms the install shipped are not read here: tests/test_build.py has the first run with
    them.)"""
    lock = ASSETS / "projects" / "broken" / "package-lock.json"
    code = (
        "import sys, io, contextlib\n"
        "import depaudit.cli, depaudit.bundled\n"
        "depaudit.bundled._read_shipped = False\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n"
        f"    depaudit.cli.main(['scan', '--lockfile', {str(lock)!r}, '--offline', '--format',\n"
        f"        'json', '--no-registry', '--no-npm', '--cache-dir', {str(tmp_path)!r}])\n"
        "print(sorted(m for m in ('yaml', 'tabulate') if m in sys.modules))\n"
    )
    env = {**os.environ, "DEPAUDIT_CACHE_DIR": str(tmp_path / "cache")}
    runs = [
        subprocess.run(
            [sys.executable, "-c", code],
            capture_output=True,
            text=True,
            check=True,
            timeout=120,
            env=env,
        ).stdout.strip()
        for _ in range(2)
    ]
    assert runs == ["['yaml']", "[]"]


@pytest.mark.parametrize(
    ("variable", "value"), [("DEPAUDIT_CODE_JOBS", "abc"), ("DEPAUDIT_FAIL_ON", "bogus")]
)
def test_code_command_environment_is_checked_like_its_flags(
    variable: str, value: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv(variable, value)
    assert main(["code", str(EXAMPLE)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith(f"depaudit: error: {variable}")
    monkeypatch.delenv(variable)
    assert main(["code", str(EXAMPLE), "--jobs", "nan"]) == 2
    assert "argument --jobs" in capsys.readouterr().err


def test_a_scan_runs_and_renders_without_the_cyclic_collector(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Issue 17: the collector is off from loading to rendering (its passes over a large
    tree's heap cost a fifth of a 50,000-entry scan) and back on once the report is written."""
    import gc

    from depaudit.formats.json import JsonFormat

    seen: list[bool] = []
    render_chunks = JsonFormat.render_chunks

    def spy(self: JsonFormat, report: object) -> Iterator[str]:
        for piece in render_chunks(self, report):  # type: ignore[arg-type]
            seen.append(gc.isenabled())  # as each piece is made and written
            yield piece

    monkeypatch.setattr(JsonFormat, "render_chunks", spy)
    lock = ASSETS / "projects" / "broken" / "package-lock.json"
    argv = ["scan", "--lockfile", str(lock), "--offline", "--no-registry", "--no-npm"]
    main([*argv, "--no-code", "--format", "json", "--cache-dir", str(tmp_path)])
    assert len(seen) > 2 and not any(seen)  # the head, each package, the tail
    assert gc.isenabled()
    assert '"schema_version": 1' in capsys.readouterr().out
