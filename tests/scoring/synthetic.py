"""Synthetic trees and facts for scoring tests (imported by the tests beside it)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from depaudit.models import (
    DependencyTree,
    KnownLeak,
    KnownLeakKind,
    Package,
    PackageFacts,
    SourceInfo,
)

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)


def clock() -> datetime:
    return NOW


def years_ago(years: float) -> datetime:
    return NOW - timedelta(days=365.25 * years)


def pkg(
    name: str,
    version: str,
    *,
    path: tuple[str, ...] | None = None,
    dev: bool = False,
    direct: bool | None = None,
    location: str | None = None,
    extraneous: bool = False,
) -> Package:
    path = path if path is not None else (name,)
    return Package(
        name=name,
        version=version,
        location=location or "node_modules/" + "/node_modules/".join(path),
        path=path,
        direct=len(path) == 1 if direct is None else direct,
        dev=dev,
        extraneous=extraneous,
    )


def tree(*packages: Package, path: str = "package-lock.json") -> DependencyTree:
    return DependencyTree(
        source=SourceInfo("package-lock", path, 3),
        root_name="app",
        root_version="1.0.0",
        packages=packages,
    )


def bug(
    package: str, affected: str = "<9.0.0", confidence: str = "high", fixed: str | None = "9.0.0"
) -> KnownLeak:
    """A leak bug fixed in 9.0.0 (every synthetic version here is below it)."""
    return KnownLeak(
        id=f"{package}-leak",
        package=package,
        kind=KnownLeakKind.BUG,
        affected=affected,
        summary=f"{package} keeps every request in a map",
        references=("https://example.invalid/issues/1",),
        confidence=confidence,
        fixed=fixed,
    )


def renamed(package: str, successor: str, affected: str = "*") -> KnownLeak:
    return KnownLeak(
        id=f"{package}-renamed",
        package=package,
        kind=KnownLeakKind.DEPRECATION,
        affected=affected,
        summary=f"{package} was renamed to {successor}",
        references=("https://example.invalid/changelog",),
        confidence="high",
        successor=successor,
    )


def facts(name: str, version: str, **kw: object) -> PackageFacts:
    return PackageFacts(name=name, version=version, **kw)  # type: ignore[arg-type]
