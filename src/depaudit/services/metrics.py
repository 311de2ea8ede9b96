"""Pure functions: the few facts extracted from a packument, and the metrics per version.

``extract(doc)`` keeps only what depaudit needs from a (possibly 20 MB) packument, as a
small JSON-able dict that the cache stores; ``facts_for(name, version, extracted, now)``
turns it into :class:`~depaudit.models.PackageFacts`. Unknown stays ``None``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

import msgspec
import orjson

from depaudit.models import PackageFacts
from depaudit.versions import version_or_none

DAY = 86400.0
YEAR = 365.25 * DAY

STATE_OK = "ok"
STATE_MISSING = "missing"  # 404: private, removed, or a typo
STATE_UNPUBLISHED = "unpublished"  # tombstone: time.unpublished and no versions

_TIME_META = frozenset({"created", "modified", "unpublished"})


def parse_time(value: object) -> datetime | None:
    """ISO 8601 (``...:24.039Z`` or ``...+00:00``) -> aware UTC datetime, else None."""
    if not isinstance(value, str) or not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.strip())
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def _iso(value: datetime | None) -> str | None:
    return value.isoformat().replace("+00:00", "Z") if value is not None else None


_HOSTED = {"github": "github.com", "gitlab": "gitlab.com", "bitbucket": "bitbucket.org"}
_SCP = re.compile(r"^(?:[\w.-]+@)?([\w.-]+):(?!//)(.+)$")


def normalize_repository(value: object) -> str | None:
    """``repository`` as string | ``{type, url, directory}`` | absent -> a URL string.

    ``git+https://h/o/r.git``, ``git://h/o/r``, ``git+ssh://git@h/o/r.git``, ``git@h:o/r``
    and the shorthands (``o/r``, ``github:o/r``) become ``https://h/o/r``; other URLs are
    returned as given."""
    url = value.get("url") if isinstance(value, Mapping) else value
    if not isinstance(url, str) or not url.strip():
        return None
    url = url.strip()
    prefix, sep, rest = url.partition(":")
    if sep and prefix in _HOSTED and not rest.startswith("//"):
        url = f"https://{_HOSTED[prefix]}/{rest}"
    elif re.fullmatch(r"[\w.-]+/[\w.-]+", url):
        url = f"https://github.com/{url}"
    elif "://" not in url and (scp := _SCP.match(url)):
        url = f"https://{scp.group(1)}/{scp.group(2)}"
    url = re.sub(r"^git\+", "", url)
    url = re.sub(r"^(?:git|ssh)://(?:[^@/]+@)?", "https://", url)
    url = re.sub(r"^https?://[^@/]+@", "https://", url)
    if url.endswith(".git"):
        url = url[:-4]
    return url.rstrip("/")


class _SlimVersion(msgspec.Struct):
    deprecated: Any = None
    repository: Any = None


class _SlimPackument(msgspec.Struct, rename={"dist_tags": "dist-tags"}):
    time: Any = None
    versions: dict[str, _SlimVersion] | None = None
    dist_tags: Any = None
    repository: Any = None


_SLIM = msgspec.json.Decoder(_SlimPackument)


def extract_body(body: bytes) -> dict[str, Any]:
    """:func:`extract` of a raw packument body, without building the whole document: only
    the fields ``extract`` reads are decoded, every version manifest's other keys are skipped
    in C. On the theia benchmark's 1,862 packuments (205 MB) this took decode + extract from
    3.7 s to 0.9 s (benchmarks/README.md), with identical results. A body of another shape
    (a version that is not an object...) takes the full decode, so results never differ."""
    try:
        slim = _SLIM.decode(body)
    except msgspec.DecodeError:
        return extract(orjson.loads(body))  # raises ValueError on non-JSON
    doc: dict[str, Any] = {
        "time": slim.time,
        "dist-tags": slim.dist_tags,
        "repository": slim.repository,
    }
    if slim.versions is not None:
        doc["versions"] = {
            version: {"deprecated": m.deprecated, "repository": m.repository}
            for version, m in slim.versions.items()
        }
    return extract(doc)


def extract(doc: object) -> dict[str, Any]:
    """The facts depaudit keeps from a full packument (or a tombstone body)."""
    if not isinstance(doc, Mapping):
        raise ValueError("packument is not a JSON object")
    raw_time = doc.get("time")
    times: Mapping[str, Any] = raw_time if isinstance(raw_time, Mapping) else {}
    raw_versions = doc.get("versions")
    versions: Mapping[str, Any] = raw_versions if isinstance(raw_versions, Mapping) else {}
    unpublished = times.get("unpublished")
    created = _iso(parse_time(times.get("created")))
    if not versions and isinstance(unpublished, Mapping):
        return {
            "state": STATE_UNPUBLISHED,
            "created": created,
            "unpublished_at": _iso(parse_time(unpublished.get("time"))),
            "versions": {},
            "deprecated": {},
        }
    tags = doc.get("dist-tags")
    latest = tags.get("latest") if isinstance(tags, Mapping) else None
    published: dict[str, str | None] = {}
    deprecated: dict[str, str] = {}
    for version, manifest in versions.items():
        published[version] = _iso(parse_time(times.get(version)))
        message = manifest.get("deprecated") if isinstance(manifest, Mapping) else None
        if isinstance(message, str) and message.strip():
            deprecated[version] = message
    gone = sorted(k for k in times if k not in _TIME_META and k not in versions)
    release_times = [t for t in published.values() if t]
    repository = normalize_repository(doc.get("repository"))
    if repository is None and isinstance(latest, str):
        manifest = versions.get(latest)
        if isinstance(manifest, Mapping):
            repository = normalize_repository(manifest.get("repository"))
    return {
        "state": STATE_OK,
        "latest": latest if isinstance(latest, str) else None,
        "created": created,
        "modified": _iso(parse_time(times.get("modified"))),
        "last_release": max(release_times, key=_sort_time) if release_times else None,
        "repository": repository,
        "versions": published,
        "deprecated": deprecated,
        "gone": gone,
    }


def _sort_time(value: str) -> datetime:
    return parse_time(value) or datetime.min.replace(tzinfo=UTC)


def _semver(version: str | None) -> Any:
    return version_or_none(version)


_PRERELEASE = re.compile(r"\d+\.\d+\.\d+-")
_PLAIN_RELEASE = re.compile(r"(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:\+[0-9A-Za-z.-]+)?")


def _order_key(parsed: Any) -> tuple[int, int, int, int]:
    """Orders a stable release against any version exactly as ``compare`` does: by
    major.minor.patch, and a prerelease below the release of the same triple."""
    return (parsed.major, parsed.minor, parsed.patch, 0 if parsed.prerelease else 1)


@lru_cache(maxsize=131072)
def _stable_key(version: str) -> tuple[int, int, int, int] | None:
    """:func:`_order_key` of a stable release, None for prereleases and non-semver. Packuments
    list hundreds of versions and ``behind`` runs per installed version: parsing each string
    once, plain releases by regex, took ``behind`` from ~60% of a warm scan to a few percent."""
    plain = _PLAIN_RELEASE.fullmatch(version)
    if plain is not None:
        return (int(plain[1]), int(plain[2]), int(plain[3]), 1)
    if _PRERELEASE.match(version):
        return None  # a prerelease when it parses, not semver when it does not: None either way
    parsed = _semver(version)
    if parsed is None or parsed.prerelease:
        return None
    return _order_key(parsed)


def _days(later: datetime, earlier: datetime) -> float:
    return round((later - earlier).total_seconds() / DAY, 2)


def behind(
    installed: str, latest: str | None, published: list[str] | Mapping[str, object]
) -> tuple[int, int, int, int] | None:
    """(versions, majors, minors, patches) behind ``latest``; stable releases only.

    ``versions`` counts stable releases in (installed, latest]; the major/minor/patch
    delta follows libyear: the first differing component, e.g. 1.2.3 -> 3.0.1 is (2, 0, 0),
    1.2.3 -> 1.4.0 is (0, 2, 0). All zero when installed is current or ahead. None when
    either version is not semver."""
    mine = _semver(installed)
    newest = _semver(latest)
    if mine is None or newest is None:
        return None
    if mine.compare(newest) >= 0:
        return (0, 0, 0, 0)
    low, high = _order_key(mine), _order_key(newest)
    count = 0
    for version in published:
        key = _stable_key(version)
        if key is not None and low < key <= high:
            count += 1
    if newest.major != mine.major:
        delta = (max(newest.major - mine.major, 0), 0, 0)
    elif newest.minor != mine.minor:
        delta = (0, max(newest.minor - mine.minor, 0), 0)
    else:
        delta = (0, 0, max(newest.patch - mine.patch, 0))
    return (count, *delta)


def _str_or_none(value: object) -> bool:
    return value is None or isinstance(value, str)


def is_extracted(value: object) -> bool:
    """True when ``value`` has the shape :func:`extract` returns. A cache entry of another
    shape (damaged, or written by another version) is refetched, not read as unknown facts."""
    if not isinstance(value, Mapping):
        return False
    state = value.get("state")
    if state == STATE_MISSING:
        return True
    if state not in (STATE_OK, STATE_UNPUBLISHED):
        return False
    versions, deprecated = value.get("versions"), value.get("deprecated")
    if not isinstance(versions, Mapping) or not isinstance(deprecated, Mapping):
        return False
    if not all(isinstance(k, str) and _str_or_none(v) for k, v in versions.items()):
        return False
    if not all(isinstance(k, str) and isinstance(v, str) for k, v in deprecated.items()):
        return False
    if state == STATE_UNPUBLISHED:
        return _str_or_none(value.get("created")) and _str_or_none(value.get("unpublished_at"))
    gone = value.get("gone", [])
    return (
        all(
            _str_or_none(value.get(k))
            for k in ("latest", "created", "modified", "last_release", "repository")
        )
        and isinstance(gone, list)
        and all(isinstance(g, str) for g in gone)
    )


def facts_for(name: str, version: str, data: Mapping[str, Any], now: datetime) -> PackageFacts:
    """Metrics for ``name@version`` from :func:`extract`'s output, at time ``now``."""
    state = data.get("state")
    created = parse_time(data.get("created"))
    if state == STATE_MISSING:
        return PackageFacts(name=name, version=version, in_registry=False)
    if state == STATE_UNPUBLISHED:
        return PackageFacts(
            name=name, version=version, in_registry=False, unpublished=True, created=created
        )
    published: Mapping[str, str | None] = data.get("versions") or {}
    deprecated: Mapping[str, str] = data.get("deprecated") or {}
    raw_latest = data.get("latest")
    latest = raw_latest if isinstance(raw_latest, str) else None
    present = version in published
    installed_at = parse_time(published.get(version)) if present else None
    latest_at = parse_time(published.get(latest)) if latest is not None else None
    last_release = parse_time(data.get("last_release"))
    counts = behind(version, latest, list(published)) if latest else None
    libyears: float | None = None
    mine, newest = _semver(version), _semver(latest)
    if mine is not None and newest is not None and mine.compare(newest) >= 0:
        libyears = 0.0  # current or ahead
    elif installed_at is not None and latest_at is not None:
        libyears = round(max((latest_at - installed_at).total_seconds(), 0.0) / YEAR, 4)
    if present:
        unpublished: bool | None = False
    elif version in (data.get("gone") or ()):
        unpublished = True
    else:
        unpublished = None
    return PackageFacts(
        name=name,
        version=version,
        in_registry=True,
        unpublished=unpublished,
        latest=latest,
        installed_published=installed_at,
        latest_published=latest_at,
        last_release=last_release,
        created=created,
        versions_behind=counts[0] if counts else None,
        majors_behind=counts[1] if counts else None,
        minors_behind=counts[2] if counts else None,
        patches_behind=counts[3] if counts else None,
        libyears=libyears,
        age_days=_days(now, installed_at) if installed_at else None,
        days_since_release=_days(now, last_release) if last_release else None,
        deprecated=deprecated.get(version) if present else None,
        deprecation_known=present,
        package_deprecated=(latest in deprecated)
        if latest is not None and latest in published
        else None,
        repository=data.get("repository"),
    )
