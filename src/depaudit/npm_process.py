"""npm's registry when neither the user's nor the project's npmrc nor the environment names
one (:func:`npm_answer`): read from npm's own files where npm is a plain installation (the
registry its global or built-in npmrc names, else its built-in default, :func:`npm_default`),
or npm run as a child process in a session of its own and asked (:class:`RegistryQuery`); and
npm stopped with whatever it started (:func:`kill_group`)."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import tempfile
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from depaudit.npm_network import BuiltIn, env_value, http_url, npm_builtin, npm_wide_layers

if TYPE_CHECKING:  # (imported where npm is run: a run whose registry is known runs none)
    import subprocess

NPM_CONFIG_TIMEOUT = 20.0  # seconds npm has to say its registry
NPM_ASKED = "npm config get registry"  # NpmConfig.origin when npm itself was asked
NPM_DEFAULT = "npm's built-in default"  # ... when npm's default was read from its own files

#: where each npm keeps its built-in default registry (under npm's own folder, newest layout
#: first; the first file present decides), and how the line reads: npm 9.x-11
#: (``@npmcli/config``) and 7.x-9.0 define it, ``registry: new Definition('registry',
#: { default: '<url>', ...`` or ``define('registry', { default: '<url>', ...``; npm 7.0 and
#: npm 6 and older list the defaults as ``registry: '<url>',``
_DEFINED = r"(?:new Definition|define)\(\s*'registry',\s*\{\s*default:\s*'([^'\\\s]+)',"
_LISTED = r"(?m)^\s*registry:\s*'([^'\\\s]+)',\s*$"
_DEFAULTS = (
    ("node_modules/@npmcli/config/lib/definitions/definitions.js", _DEFINED),
    ("lib/utils/config/definitions.js", _DEFINED),
    ("lib/utils/config.js", _LISTED),
    ("lib/config/defaults.js", _LISTED),
)
_MAX_SOURCE = 4 << 20  # bytes of npm's definitions read at most (npm 11's: ~90 KB)


def plain_npm(environ: Mapping[str, str]) -> Path | None:
    """npm's own folder when the ``npm`` on ``PATH`` is a plain installation, where depaudit
    finds the same npmrc files npm reads (:func:`depaudit.npm_network.npm_wide_layers`):
    ``npm`` a link to npm's own ``bin/npm-cli.js`` in a folder whose package.json names
    ``npm``; ``node`` beside it on ``PATH`` (the prefix npm's global npmrc is found from) and
    a program named node, not a version manager's shim (a script, or a program of another
    name). None otherwise."""
    path = environ.get("PATH", "")
    npm, node = shutil.which("npm", path=path), shutil.which("node", path=path)
    if not npm or not node or os.path.dirname(npm) != os.path.dirname(node):
        return None
    cli, program_path = Path(os.path.realpath(npm)), os.path.realpath(node)
    folder = cli.parent.parent
    if cli.name != "npm-cli.js" or cli.parent.name != "bin":
        return None
    if not os.path.basename(program_path).startswith("node"):
        return None
    try:
        with open(program_path, "rb") as program:
            if program.read(2) == b"#!":
                return None
        if json.loads((folder / "package.json").read_bytes()).get("name") != "npm":
            return None
    except (OSError, ValueError, AttributeError, RecursionError):  # unreadable, not JSON...
        return None
    return folder


def npm_default(environ: Mapping[str, str]) -> str | None:
    """npm's built-in default registry, read from the npm that ``npm`` on ``PATH`` runs,
    without running it (node's start-up and npm's loading take ~0.2 s). None, so that npm is
    asked instead, unless it is a plain installation (:func:`plain_npm`) with exactly one
    default, an http(s) URL, in the first of :data:`_DEFAULTS` that npm has."""
    folder = plain_npm(environ)
    if folder is None:
        return None
    try:
        for relative, pattern in _DEFAULTS:
            if (folder / relative).is_file():
                with open(folder / relative, encoding="utf-8", errors="replace") as source:
                    return one_default(pattern, source.read(_MAX_SOURCE))
    except OSError:
        return None
    return None


def one_default(pattern: str, source: str) -> str | None:
    """The registry ``pattern`` (one of :data:`_DEFAULTS`) finds in ``source`` when it finds
    exactly one and it is an http(s) URL."""
    found = re.findall(pattern, source)
    return (
        str(found[0]) if len(found) == 1 and found[0].startswith(("https://", "http://")) else None
    )


def npm_answer(
    environ: Mapping[str, str],
    settings: Mapping[str, str],
    read: Callable[[Path], dict[str, str]],
    timeout: float = NPM_CONFIG_TIMEOUT,
    *,
    home: Path | None = None,
    base: Path = Path("."),
    builtin: BuiltIn | None = None,
) -> RegistryQuery:
    """npm's registry, for a run where neither the environment nor the user's or project's
    ``.npmrc`` (``settings``, merged) names one. Where npm is a plain installation
    (:func:`plain_npm`), so that depaudit finds the files npm reads: the registry its global
    npmrc names, else its built-in one (an http(s) URL; the file is the origin), else npm's
    built-in default (:func:`npm_default`). Otherwise npm is asked, which resolves it all;
    asked too in npm's global mode (``global``, ``location=global``), where npm reads no
    project ``.npmrc``. ``read`` reads one npmrc file; ``home`` and ``base`` resolve path
    settings (:func:`depaudit.npm_network.npm_path`); ``builtin`` is npm's built-in npmrc if
    it was read already."""
    if builtin is None:
        builtin = npm_builtin(environ, read)
    keys = frozenset({"registry"})
    wide = npm_wide_layers(environ, settings, read, keys, home=home, base=base, builtin=builtin)
    # global mode, from the environment, the user's or project's npmrc, or npm's built-in one
    locations = (
        env_value(environ, "npm_config_location"),
        settings.get("location"),
        builtin.values.get("location"),
    )
    global_mode = "global" in locations
    flags = (
        env_value(environ, "npm_config_global"),
        settings.get("global"),
        builtin.values.get("global"),
    )
    for flag in flags:
        global_mode |= (flag or "").lower() not in ("", "false", "0")
    if global_mode or "registry" in settings:  # (an empty registry= above them: npm says "")
        return RegistryQuery(timeout)
    named = [(where, values["registry"].strip()) for where, values in wide if "registry" in values]
    if named:  # the global file's over the built-in one's, as npm reads them
        where, value = named[-1]
        if _plain_url(value) and plain_npm(environ) is not None:
            return RegistryQuery(timeout, known=value, origin=where)
        return RegistryQuery(timeout)  # (npm 11 says an empty or odd value as it is)
    default = npm_default(environ)
    if default is not None:
        return RegistryQuery(timeout, known=default)
    return RegistryQuery(timeout)


def _plain_url(value: str) -> bool:
    """An http(s) URL with a host and no credentials. npm 11 says any other value of
    ``registry`` as it is (``registry=`` as nothing, ``registry=host`` as ``host``) and
    refuses one with credentials, so npm is asked for it then, and its answer judged as
    before."""
    return http_url(value) and "@" not in urlsplit(value).netloc


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
    """npm's registry: ``known`` where it was read from npm's own files, nothing run (its
    default, :data:`NPM_DEFAULT`, or what one of its npmrc files names, that file the
    ``origin``), else ``npm config get registry`` (:data:`NPM_ASKED`), started as soon as a
    run knows it will need the answer and read when it does (:meth:`result`): npm takes
    ~0.2 s to start, which the run spends reading the tree meanwhile instead of waiting
    before its first request
    (benchmarks/README.md, "Cold scan against the registry itself"). :meth:`close` (or the
    ``with`` block's end) stops npm if it is still running and removes its folder.

    npm runs in an empty temporary folder, not in the project: the project's ``.npmrc`` is
    read by :func:`load_npm_config` itself, and inside a project whose package.json has
    ``devEngines`` or ``engines`` that the running npm does not meet, every npm command
    fails (``EBADDEVENGINES``) before it reads any configuration."""

    def __init__(
        self,
        timeout: float = NPM_CONFIG_TIMEOUT,
        known: str | None = None,
        origin: str | None = None,
    ) -> None:
        self.timeout = timeout
        self.origin = origin or (NPM_DEFAULT if known else NPM_ASKED)
        self._answer: tuple[str | None, str | None] | None = (known, None) if known else None
        self._process: subprocess.Popen[str] | None = None
        self._folder: str | None = None
        self._started = time.monotonic()
        if known:
            return
        npm = shutil.which("npm")
        if npm is None:
            self._answer = None, "npm is not on PATH"
            return
        import subprocess

        try:
            self._folder = tempfile.mkdtemp(prefix="depaudit-npm-")
            self._process = subprocess.Popen(
                [npm, "config", "get", "registry"],
                cwd=self._folder,
                # no look for a newer npm (a request to the registry, once a week)
                env={**os.environ, "npm_config_update_notifier": "false"},
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
        import subprocess

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
