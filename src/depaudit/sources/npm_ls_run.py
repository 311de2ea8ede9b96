"""Running ``npm ls --all --long --json`` in a project (no shell, no scripts, a time limit) and
reading what it prints with :func:`depaudit.sources.npm_ls.parse_npm_ls`."""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from depaudit.budget import PATH_DEPTH
from depaudit.errors import InputError
from depaudit.models import DependencyTree
from depaudit.npm_process import kill_group
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
    """``npm ls`` running in ``directory`` since ``started`` (monotonic)."""

    directory: Path
    proc: subprocess.Popen[bytes]
    started: float

    def stop(self) -> None:
        """End it (its process group) if it is still running: the scan did not use it."""
        if self.proc.poll() is None:
            kill_group(self.proc)


def start_npm_ls(directory: Path) -> NpmLs:
    """Start ``npm ls --all --long --json`` in ``directory`` (no shell, no scripts); read it
    with :func:`finish_npm_ls`."""
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
    """The tree ``run`` prints, within ``timeout`` seconds of its start."""
    label = str(run.directory)
    proc = run.proc
    try:
        left = max(0.0, timeout - (time.monotonic() - run.started))
        out, err = proc.communicate(timeout=left)
    except subprocess.TimeoutExpired:
        kill_group(proc)
        raise InputError(
            label,
            f"`npm ls` did not finish within {timeout:g} seconds",
            "raise --npm-timeout, or pass --no-npm to read only the lockfile",
        ) from None
    except BaseException:
        kill_group(proc)
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
