"""``depaudit scan`` runs the code rules too: the findings join the :class:`Report`.

The code scan reads only the app's files and its own cache entries, so it can run beside the
registry's fetch (:class:`CodeScan`: the Auditor starts it with the services); its worker
processes come from a fork server once threads run (``code.engine``)."""

from __future__ import annotations

import threading
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from depaudit.config import Settings
from depaudit.models import Report

if TYPE_CHECKING:
    from depaudit.code.model import CodeReport


def code_folder(settings: Settings) -> Path | None:
    """The app's folder: DIR, or the lockfile's folder; none for saved ``npm ls`` output."""
    if settings.npm_ls is not None:
        return None
    if settings.lockfile is not None:
        return settings.lockfile.parent
    return settings.directory


def scan_app_code(settings: Settings, stop: threading.Event | None = None) -> CodeReport | None:
    """The code rules over the app's folder, or None when there is no folder to read."""
    folder = code_folder(settings)
    if folder is None or not folder.is_dir():
        return None
    from depaudit.cache import Cache
    from depaudit.code.engine import scan_code

    cache = Cache(settings.cache_dir, enabled=settings.use_cache)
    try:
        return scan_code(folder, cache=cache if settings.use_cache else None, stop=stop)
    finally:
        cache.close()


def with_code(report: Report, code: CodeReport | None) -> Report:
    """``report`` with the code scan's findings and warnings."""
    if code is None:
        return report
    return replace(
        report,
        findings=code.findings,
        code_root=code.root,
        warnings=report.warnings + tuple(f"code: {w}" for w in code.warnings),
    )


def add_code_findings(report: Report, settings: Settings) -> Report:
    return with_code(report, scan_app_code(settings))


class CodeScan:
    """The app's code scan, started in a thread when :meth:`start` is called (the Auditor
    calls it when the services are under way) or run here by :meth:`result` if it never
    was. Its error, if any, is raised by :meth:`result`, in the caller's thread."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._code: CodeReport | None = None
        self._error: BaseException | None = None
        self._lock = threading.Lock()

    def start(self) -> None:
        with self._lock:
            if self._thread is None:
                # a daemon: Ctrl-C in the main thread is not held up by a long code scan
                self._thread = threading.Thread(target=self._run, name="code-scan", daemon=True)
                self._thread.start()

    def _run(self) -> None:
        try:
            self._code = scan_app_code(self.settings, self._stop)
        except BaseException as exc:  # handed to result(), in the caller's thread
            self._error = exc

    def result(self) -> CodeReport | None:
        with self._lock:
            thread = self._thread
        if thread is None:
            return scan_app_code(self.settings)
        thread.join()
        if self._error is not None:
            raise self._error
        return self._code

    def stop(self, wait: float = 10.0) -> None:
        """The scan was interrupted (or failed): the code scan stops after the files being
        analysed and its workers end; waited for up to ``wait`` seconds."""
        self._stop.set()
        with self._lock:
            thread = self._thread
        if thread is not None:
            thread.join(wait)

    def add_to(self, report: Report) -> Report:
        return with_code(report, self.result())
