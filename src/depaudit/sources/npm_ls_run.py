"""Running ``npm ls --all --long --json`` in a project (no shell, no scripts, a time limit) and
reading what it prints with :func:`depaudit.sources.npm_ls.parse_npm_ls`."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from depaudit.budget import PATH_DEPTH
from depaudit.errors import InputError
from depaudit.models import DependencyTree
from depaudit.sources.npm_ls import parse_npm_ls

#: environment for `npm ls`: no update notifier, funding or audit noise, no scripts, no colour
NPM_ENV = {
    "npm_config_update_notifier": "false",
    "npm_config_fund": "false",
    "npm_config_audit": "false",
    "npm_config_ignore_scripts": "true",
    "npm_config_progress": "false",
    "npm_config_color": "false",
    "npm_config_loglevel": "error",
    "NO_UPDATE_NOTIFIER": "1",
    "NO_COLOR": "1",
}


def npm_command() -> str | None:
    return shutil.which("npm")


@dataclass
class NpmLs:
    """``npm ls`` running in ``directory`` since ``started`` (monotonic); from :meth:`read`
    on, two threads read what it prints as it prints it (a pipe left unread would hold npm
    at its first 64 KB while the scan reads the lockfile). They are started apart from npm
    so that ``app.scan`` can fork its fetch workers between the two, from a process that
    still runs one thread (``fetch_worker.spawn``); :meth:`wait` starts them where no one
    has."""

    directory: Path
    proc: subprocess.Popen[bytes]
    started: float
    out: list[bytes] = field(default_factory=list)
    err: list[bytes] = field(default_factory=list)
    readers: list[threading.Thread] = field(default_factory=list)

    def read(self) -> None:
        """Start reading what it prints (once: nothing where it is read already)."""
        if self.readers:
            return
        for stream, into in ((self.proc.stdout, self.out), (self.proc.stderr, self.err)):
            reader = threading.Thread(target=_drain, args=(stream, into), daemon=True)
            self.readers.append(reader)
            reader.start()

    def wait(self, deadline: float) -> tuple[bytes, bytes]:
        """What it printed, once it has ended and closed its output; TimeoutExpired where
        that is not before ``deadline`` (monotonic)."""
        self.read()
        for reader in self.readers:
            reader.join(max(0.0, deadline - time.monotonic()))
            if reader.is_alive():
                raise subprocess.TimeoutExpired(self.proc.args, deadline - self.started)
        # (its output closed: it is ending, if it has not; a moment's grace for the reaping)
        self.proc.wait(max(1.0, deadline - time.monotonic()))
        return b"".join(self.out), b"".join(self.err)

    def stop(self) -> None:
        """End it and whatever it started (its process group, even where npm itself has
        ended), and reap it: the scan did not use it, or gave up waiting. Nothing once it
        was reaped (read to its end): its group's id could then be another's."""
        if self.proc.returncode is None:  # (not reaped: the group id is still its own)
            with contextlib.suppress(ProcessLookupError, PermissionError, AttributeError):
                os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.kill()  # (where there are no groups; nothing for an ended process)
            self.proc.wait()
        for reader in self.readers:
            reader.join(1.0)  # (its output closes with the group)


def _drain(stream: IO[bytes] | None, into: list[bytes]) -> None:
    if stream is not None:
        with stream:
            into.append(stream.read())


def start_npm_ls(directory: Path) -> NpmLs:
    """Start ``npm ls --all --long --json`` in ``directory`` (no shell, no scripts); read it
    with :func:`finish_npm_ls`. What it prints is read from :meth:`NpmLs.read` on, which
    the caller runs as soon as it may start threads (:func:`finish_npm_ls` at the latest):
    npm prints its tree only once it has read all of it."""
    label = str(directory)
    npm = npm_command()
    if npm is None:
        raise InputError(
            label,
            "node_modules exists but `npm` is not on PATH, so the installed tree cannot be read",
            "install Node.js and npm, or pass --no-npm to read only the lockfile",
        )
    # --long: edge types (dev / optional / peer) and each copy's folder; without it every
    # package would be weighed as a production dependency and equal copies would merge
    cmd = [npm, "ls", "--all", "--long", "--json", "--ignore-scripts"]
    env = {**os.environ, **NPM_ENV}
    try:
        proc = subprocess.Popen(
            cmd,
            cwd=directory,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            start_new_session=True,
        )
    except OSError as exc:
        raise InputError(
            label, f"cannot run `npm ls` ({exc.strerror or exc})", "pass --no-npm to skip it"
        ) from None
    return NpmLs(directory, proc, time.monotonic())


def run_npm_ls(directory: Path, timeout: float, max_depth: int = PATH_DEPTH) -> DependencyTree:
    """Run ``npm ls --all --long --json`` in ``directory`` (no shell, no scripts, a time limit) and
    parse what it prints. A non-zero exit with JSON on stdout is normal: it means problems."""
    return finish_npm_ls(start_npm_ls(directory), timeout, max_depth)


def finish_npm_ls(run: NpmLs, timeout: float, max_depth: int = PATH_DEPTH) -> DependencyTree:
    """The tree ``run`` prints, if it ends within ``timeout`` seconds of its start."""
    label = str(run.directory)
    proc = run.proc
    try:
        out, err = run.wait(run.started + timeout)
    except subprocess.TimeoutExpired:
        run.stop()
        raise InputError(
            label,
            f"`npm ls` did not finish within {timeout:g} seconds",
            "raise --npm-timeout, or pass --no-npm to read only the lockfile",
        ) from None
    except BaseException:
        run.stop()
        raise
    stdout = out.decode("utf-8", "replace")
    if not stdout.strip():
        lines = [
            ln
            for ln in err.decode("utf-8", "replace").splitlines()
            if ln.strip() and "warn" not in ln.lower()
        ]
        first = lines[0].strip() if lines else "no output"
        raise InputError(
            label,
            f"`npm ls` failed (exit {proc.returncode}): {first}",
            "run `npm ls --all` there to see why, or pass --no-npm",
        )
    text = stdout
    if proc.returncode and '"error"' in err.decode("utf-8", "replace"):
        text = stdout + "\n" + err.decode("utf-8", "replace")  # npm 7/8: error JSON on stderr
    try:
        return parse_npm_ls(text, label, max_depth=max_depth)
    except InputError as exc:
        raise InputError(
            label,
            f"`npm ls` printed output depaudit cannot read: {exc.problem}",
            "run `npm ls --all --long --json` there to see why, or pass --no-npm",
        ) from None
