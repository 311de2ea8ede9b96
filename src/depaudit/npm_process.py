"""npm run as a child process, in a session of its own: asked for its registry
(:class:`RegistryQuery`), and stopped with whatever it started (:func:`kill_group`)."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import tempfile
import time
from typing import Any

NPM_CONFIG_TIMEOUT = 20.0  # seconds npm has to say its registry


def kill_group(proc: subprocess.Popen[Any]) -> None:
    """Stop ``proc`` and whatever it started (it was started with ``start_new_session``: npm
    may run node from a shell script, and node its own children, any of which would keep
    the pipes open), then reap it and close the pipes."""
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError, AttributeError):  # gone; not ours; Windows
        proc.kill()
    proc.communicate()


class RegistryQuery:
    """``npm config get registry``, started as soon as a run knows it will need the answer
    and read when it does (:meth:`result`): npm takes ~0.2 s to start, which the run spends
    reading the tree meanwhile instead of waiting before its first request
    (benchmarks/README.md, "Cold scan against the registry itself"). :meth:`close` (or the
    ``with`` block's end) stops npm if it is still running and removes its folder.

    npm runs in an empty temporary folder, not in the project: the project's ``.npmrc`` is
    read by :func:`load_npm_config` itself, and inside a project whose package.json has
    ``devEngines`` or ``engines`` that the running npm does not meet, every npm command
    fails (``EBADDEVENGINES``) before it reads any configuration."""

    def __init__(self, timeout: float = NPM_CONFIG_TIMEOUT) -> None:
        self.timeout = timeout
        self._answer: tuple[str | None, str | None] | None = None
        self._process: subprocess.Popen[str] | None = None
        self._folder: str | None = None
        self._started = time.monotonic()
        npm = shutil.which("npm")
        if npm is None:
            self._answer = None, "npm is not on PATH"
            return
        try:
            self._folder = tempfile.mkdtemp(prefix="depaudit-npm-")
            self._process = subprocess.Popen(
                [npm, "config", "get", "registry"],
                cwd=self._folder,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
                errors="replace",
                start_new_session=True,  # stopped as a group: see close
            )
        except OSError as exc:
            self._answer = None, f"`npm config get registry` could not run ({exc.strerror or exc})"
            self.close()

    def result(self) -> tuple[str | None, str | None]:
        """The registry, or ``None`` and npm's own error line (``None`` for no registry)."""
        if self._answer is None:
            try:
                self._answer = self._wait()
            finally:
                self.close()
        return self._answer

    def _wait(self) -> tuple[str | None, str | None]:
        assert self._process is not None
        left = max(0.0, self.timeout - (time.monotonic() - self._started))
        try:
            out, err = self._process.communicate(timeout=left)
        except subprocess.TimeoutExpired:  # close stops it
            return None, f"`npm config get registry` took over {self.timeout:g} s"
        value = out.strip().splitlines()[-1].strip() if out.strip() else ""
        if self._process.returncode != 0:
            lines = [line.strip() for line in err.splitlines() if line.strip()]
            said = "; ".join(lines[:2]) if lines else "no message"
            return None, (
                f"`npm config get registry` failed (exit {self._process.returncode}): {said}"
            )
        if not value or value in ("undefined", "null"):
            return None, None
        return value, None

    def close(self) -> None:
        if self._process is not None:
            if self._process.returncode is None:  # not waited for: stop it and its children
                kill_group(self._process)
            self._process = None
        if self._folder is not None:
            shutil.rmtree(self._folder, ignore_errors=True)
            self._folder = None

    def __enter__(self) -> RegistryQuery:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()
