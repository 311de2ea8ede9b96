"""``depaudit scan`` runs the code rules too: the findings join the :class:`Report`."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from depaudit.config import Settings
from depaudit.models import Report


def code_folder(settings: Settings) -> Path | None:
    """The app's folder: DIR, or the lockfile's folder; none for saved ``npm ls`` output."""
    if settings.npm_ls is not None:
        return None
    if settings.lockfile is not None:
        return settings.lockfile.parent
    return settings.directory


def add_code_findings(report: Report, settings: Settings) -> Report:
    folder = code_folder(settings)
    if folder is None or not folder.is_dir():
        return report
    from depaudit.cache import Cache
    from depaudit.code.engine import scan_code

    cache = Cache(settings.cache_dir, enabled=settings.use_cache)
    try:
        code = scan_code(folder, cache=cache if settings.use_cache else None)
    finally:
        cache.close()
    return replace(
        report,
        findings=code.findings,
        code_root=str(folder),
        warnings=report.warnings + tuple(f"code: {w}" for w in code.warnings),
    )
