"""Pure functions: the few facts extracted from a packument, and the metrics per version.

``extract(doc)`` keeps only what depaudit needs from a (possibly 20 MB) packument, as a
small JSON-able dict that the cache stores; ``facts_for(name, version, extracted, now)``
turns it into :class:`~depaudit.models.PackageFacts`. Unknown stays ``None``.

Why this module is over ~400 lines: it is one phase of pure functions from a packument to
facts; :func:`extract`, :func:`pack` (the cached form) and :func:`facts_for` read and write
the same per-version lines, so the form and its reader change together.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Mapping
from datetime import UTC, datetime
from functools import lru_cache
from typing import TYPE_CHECKING, Any, NamedTuple

from depaudit.versions import version_or_none

if TYPE_CHECKING:  # the decoding worker imports this module, and needs no facts
    from depaudit.models import PackageFacts


DAY = 86400.0
YEAR = 365.25 * DAY

STATE_OK = "ok"
STATE_MISSING = "missing"  # 404: private, removed, or a typo
STATE_UNPUBLISHED = "unpublished"  # tombstone: time.unpublished and no versions

_TIME_META = frozenset({"created", "modified", "unpublished"})

#: the two kinds of version time a document's index keeps as sent, when every version's time
#: is of one of them (one kind for all): the registry's own (``2024-05-01T12:00:00.123Z``)
#: and Python's ``isoformat`` in UTC (``...:00.123456+00:00``, or ``...:00+00:00`` where the
#: microseconds are 0: some mirrors serve these). Within either kind the text's order is the
#: times' order, so the latest is the greatest text; and each reads back (:func:`parse_time`)
#: as the time it names. Any other document's times are rewritten (:func:`_iso`). Patterns
#: (compiled on first use, by ``re``), not ``re.compile`` at import.
AS_SENT_KINDS = (
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{3}Z",
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(?:\.[0-9]{6})?\+00:00",
)


def kept_as_sent(stamps: list[Any]) -> bool:
    """Whether a document's version times ``stamps`` are kept as sent: there is one, and every
    one is a string of one and the same kind of :data:`AS_SENT_KINDS` (a date that does not
    exist, such as February 30, included: it reads back as unknown, as a rewrite makes it)."""
    return bool(stamps) and any(
        all(isinstance(s, str) and re.fullmatch(kind, s) is not None for s in stamps)
        for kind in AS_SENT_KINDS
    )


def parse_time(value: object) -> datetime | None:
    """ISO 8601 (``...:24.039Z`` or ``...+00:00``) -> aware UTC datetime, else None."""
    if not isinstance(value, str) or not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.strip())
        if parsed.tzinfo is UTC:  # (the registry's "Z", and what _iso writes: as it is)
            return parsed
        if parsed.tzinfo is None:
            parsed = parsed.replace(tzinfo=UTC)
        return parsed.astimezone(UTC)
    except (ValueError, OverflowError):  # OverflowError: 0001-01-01T00:00+01:00 is before year 1
        return None


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


@lru_cache(maxsize=1)
def _slim_decoder() -> tuple[Any, type[Exception]]:
    """msgspec's decoder of the fields :func:`extract` reads, and its error; made on first
    use (msgspec's import is paid by runs that fetch, not by warm or offline ones)."""
    import msgspec

    # built with defstruct: the annotations of classes in a function would stay strings here
    # gc=False: a decoded JSON tree has no cycles, and tracking 100k version structs per
    # large packument cost ~10% of the decode. A version's repository is kept as its raw
    # JSON (:func:`raw_value`): only the latest's is ever read, and building every version's
    # object cost ~10% of the decode (benchmarks/README.md); the others are skipped unread,
    # as every field not named here is
    version = msgspec.defstruct(
        "_SlimVersion",
        [("deprecated", Any, None), ("repository", msgspec.Raw, None)],
        gc=False,
    )
    packument = msgspec.defstruct(
        "_SlimPackument",
        [
            ("time", Any, None),
            ("versions", dict[str, version] | None, None),  # type: ignore[valid-type]
            ("dist_tags", Any, None),
            ("repository", Any, None),
        ],
        rename={"dist_tags": "dist-tags"},
    )
    return msgspec.json.Decoder(packument), msgspec.DecodeError


def raw_value(raw: Any) -> Any:
    """A field decoded as ``msgspec.Raw`` (:func:`_slim_decoder`), as a value; None absent."""
    if raw is None:
        return None
    import msgspec

    return msgspec.json.decode(raw)


def extract_body(body: bytes) -> dict[str, Any]:
    """:func:`extract` of a raw packument body, without building the whole document: only
    the fields ``extract`` reads are decoded, every version manifest's other keys are skipped
    in C. On the theia benchmark's 1,862 packuments (205 MB) this took decode + extract from
    3.7 s to 0.9 s (benchmarks/README.md), with identical results. A body of another shape
    (a version that is not an object...) takes the full decode, so results never differ."""
    decoder, decode_error = _slim_decoder()
    try:
        slim = decoder.decode(body)
    except decode_error:
        # orjson imported here: the decoding worker needs it for no other body, and its
        # import is ~12 ms of the worker's start
        import orjson

        return extract(orjson.loads(body))  # raises ValueError on non-JSON
    doc: dict[str, Any] = {
        "time": slim.time,
        "dist-tags": slim.dist_tags,
        "repository": slim.repository,
    }
    if slim.versions is not None:
        tags = slim.dist_tags
        # extract reads the latest's repository alone, where the document's own names none:
        # every other one stays unread, as the fields the decoder skips
        wanted = tags.get("latest") if isinstance(tags, Mapping) else None
        if normalize_repository(slim.repository) is not None:
            wanted = None
        doc["versions"] = {
            version: {
                "deprecated": m.deprecated,
                "repository": raw_value(m.repository) if version == wanted else None,
            }
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
    stamps = [times.get(version) for version in versions]
    as_sent = kept_as_sent(stamps)
    for (version, manifest), stamp in zip(versions.items(), stamps, strict=True):
        published[version] = stamp if as_sent else _iso(parse_time(stamp))
        message = manifest.get("deprecated") if isinstance(manifest, Mapping) else None
        if isinstance(message, str) and message.strip():
            deprecated[version] = message
    gone = sorted(k for k in times if k not in _TIME_META and k not in versions)
    # (a rewritten time is a real one or None; one kept as sent may name no real date)
    release_times = [
        t for t in published.values() if t and (not as_sent or parse_time(t) is not None)
    ]
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
        "last_release": max(release_times, key=_release_order) if release_times else None,
        "repository": repository,
        "versions": published,
        "deprecated": deprecated,
        "gone": gone,
    }


def _sort_time(value: str) -> datetime:
    return parse_time(value) or datetime.min.replace(tzinfo=UTC)


def _release_order(value: str) -> tuple[datetime, str]:
    """The latest release's order: by time, and between two texts of the same time (kept as
    sent: ``...:05+00:00`` and ``...:05.000000+00:00``) the greater text."""
    return (_sort_time(value), value)


def _semver(version: str | None) -> Any:
    return version_or_none(version)


#: a triple, then a hyphen, or a letter and only the characters of a loose prerelease: a
#: prerelease where node-semver's loose parser reads it (``1.0.0-rc.1``, ``1.0.0beta2``), not a
#: version where it does not (its recovery then ends in an error)
_PRERELEASE = re.compile(r"\d+\.\d+\.\d+(?:-|[A-Za-z][0-9A-Za-z.-]*\Z)")
_IDENTS = r"[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*"  # dot-separated identifiers, none empty
_PLAIN_RELEASE = re.compile(rf"(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:\+{_IDENTS})?")


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


def _quick_order(version: str) -> tuple[int, int, int, int] | None:
    """:func:`_order_key` of a plain release or of a strict prerelease (``1.2.3-rc.1``),
    without node-semver (a prerelease's identifiers are not in the key: two prereleases of
    the same triple are left to node-semver); None for anything else."""
    key = _stable_key(version)
    if key is not None:
        return key
    # (imported here: the fetch workers import this module and never get here)
    from depaudit.fastsemver import release_of

    release = release_of(version)  # a plain release has a stable key: this is a prerelease
    return None if release is None else (*release, 0)


def _decided(installed: str, latest: str) -> tuple[Any, Any] | None:
    """The two versions' :func:`_quick_order` where they alone decide npm's order of the two
    (different triples, or a release against its prerelease), else None."""
    low, high = _quick_order(installed), _quick_order(latest)
    if low is None or high is None or (low[:3] == high[:3] and not (low[3] or high[3])):
        return None
    return low, high


def days_between(later: datetime, earlier: datetime) -> float:
    """Days from ``earlier`` to ``later``, to the hundredth (a package's ages)."""
    return round((later - earlier).total_seconds() / DAY, 2)


def behind(
    installed: str, latest: str | None, published: list[str] | Mapping[str, object]
) -> tuple[int, int, int, int] | None:
    """(versions, majors, minors, patches) behind ``latest``; stable releases only.

    ``versions`` counts stable releases in (installed, latest]; the major/minor/patch
    delta follows libyear: the first differing component, e.g. 1.2.3 -> 3.0.1 is (2, 0, 0),
    1.2.3 -> 1.4.0 is (0, 2, 0). All zero when installed is current or ahead. None when
    either version is not semver."""
    quick = _decided(installed, latest) if latest is not None else None
    if quick is not None:
        low, high = quick
        if low >= high:
            return (0, 0, 0, 0)
    else:
        mine, newest = _semver(installed), _semver(latest)
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
    if high[0] != low[0]:
        delta = (max(high[0] - low[0], 0), 0, 0)
    elif high[1] != low[1]:
        delta = (0, max(high[1] - low[1], 0), 0)
    else:
        delta = (0, 0, max(high[2] - low[2], 0))
    return (count, *delta)


def _str_or_none(value: object) -> bool:
    return value is None or isinstance(value, str)


# -- the cached form -------------------------------------------------------------------------
#
# What the cache keeps per name is :func:`pack` of :func:`extract`: the head facts as they are,
# and every version as one line ``version \t published \t rank \t message`` of one string
# (``index``). ``rank`` is, for a stable release, how many stable releases of the packument are
# at or below it (so "releases behind" is a subtraction); ``message`` indexes the distinct
# deprecation messages. A warm scan decodes a few kB of string per name and finds the lines of
# the installed version and of ``latest`` with ``str.find``, instead of decoding and walking a
# dict of every version (103k versions for 1,766 names: 0.2 s of a warm theia scan).
# Versions containing a tab or a newline (never seen, but possible) are kept in ``odd``.

_SEPARATORS = ("\t", "\n")


def _line_of(version: str, published: str | None, rank: int | None, message: int | None) -> str:
    fields = ("" if v is None else str(v) for v in (published, rank, message))
    return "\t".join((version, *fields))


def pack(data: Mapping[str, Any]) -> dict[str, Any]:
    """The cached form of :func:`extract`'s output (see above); states other than ``ok``
    are kept as they are."""
    if data.get("state") != STATE_OK:
        return dict(data)
    published: Mapping[str, str | None] = data.get("versions") or {}
    deprecated: Mapping[str, str] = data.get("deprecated") or {}
    stable = sorted(k for k in map(_stable_key, published) if k is not None)
    messages: dict[str, int] = {}
    lines: list[str] = []
    odd: dict[str, list[Any]] = {}
    for version, when in published.items():
        key = _stable_key(version)
        rank = bisect_right(stable, key) if key is not None else None
        text = deprecated.get(version)
        message = messages.setdefault(text, len(messages)) if text is not None else None
        if any(sep in version for sep in _SEPARATORS):
            odd[version] = [when, rank, message]
        else:
            lines.append(_line_of(version, when, rank, message))
    head = {k: v for k, v in data.items() if k not in ("versions", "deprecated")}
    return {
        **head,
        "index": "\n" + "".join(line + "\n" for line in lines),
        "messages": list(messages),
        "odd": odd,
    }


def _is_packed_ok(value: Mapping[str, Any]) -> bool:
    index, messages, odd = value.get("index"), value.get("messages"), value.get("odd")
    if not isinstance(index, str) or not index.startswith("\n") or not index.endswith("\n"):
        return False
    if not isinstance(messages, list) or not all(isinstance(m, str) for m in messages):
        return False
    if not isinstance(odd, Mapping) or not all(
        isinstance(v, list) and len(v) == 3 for v in odd.values()
    ):
        return False
    gone = value.get("gone", [])
    return (
        all(
            _str_or_none(value.get(k))
            for k in ("latest", "created", "modified", "last_release", "repository")
        )
        and isinstance(gone, list)
        and all(isinstance(g, str) for g in gone)
    )


def is_packed(value: object) -> bool:
    """True when ``value`` has the shape :func:`pack` returns. A cache entry of another
    shape (damaged, or written by another version) is refetched, not read as unknown facts.
    Only the head is checked here; a damaged line makes that package's facts unknown."""
    if not isinstance(value, Mapping):
        return False
    state = value.get("state")
    if state == STATE_MISSING:
        return True
    if state == STATE_UNPUBLISHED:
        return _str_or_none(value.get("created")) and _str_or_none(value.get("unpublished_at"))
    return state == STATE_OK and _is_packed_ok(value)


class _Line(NamedTuple):
    """A version's line of a packed entry (a tuple: the decoding worker, which imports this
    module, starts without the dataclass machinery)."""

    published: str | None
    rank: int | None
    message: str | None


def _int_or_none(text: str) -> int | None:
    return int(text) if text else None


def _lookup(data: Mapping[str, Any], version: str) -> _Line | None:
    """The line of ``version`` in a packed entry, or None when the packument lacks it."""
    messages: list[str] = data["messages"]
    if "\t" in version or "\n" in version:  # (_SEPARATORS)
        raw = data["odd"].get(version)
        if raw is None:
            return None
        published, rank, message = raw
    else:
        index: str = data["index"]
        start = index.find(f"\n{version}\t")
        if start < 0:
            return None
        start += len(version) + 2
        end = index.index("\n", start)
        published, rank_text, message_text = index[start:end].split("\t")
        published = published or None
        rank, message = _int_or_none(rank_text), _int_or_none(message_text)
    if not (
        _str_or_none(published)
        and (rank is None or type(rank) is int)
        and (message is None or (type(message) is int and 0 <= message < len(messages)))
    ):
        raise ValueError(f"a damaged line for {version!r}")
    return _Line(published, rank, messages[message] if message is not None else None)


def _all_versions(data: Mapping[str, Any]) -> list[str]:
    index: str = data["index"]
    versions = [line.split("\t", 1)[0] for line in index[1:-1].split("\n") if line]
    return versions + list(data["odd"])


def _behind_packed(
    data: Mapping[str, Any],
    installed: str,
    mine: _Line | None,
    latest: str,
    newest: _Line | None,
) -> tuple[int, int, int, int] | None:
    """:func:`behind` from the ranks of two plain releases present in the packument; the
    full count over every version otherwise (prereleases, versions the packument lacks)."""
    low, high = _stable_key(installed), _stable_key(latest)
    if (
        low is not None
        and high is not None
        and mine is not None
        and newest is not None
        and mine.rank is not None
        and newest.rank is not None
    ):
        if low >= high:
            return (0, 0, 0, 0)
        if high[0] != low[0]:
            delta = (high[0] - low[0], 0, 0)
        elif high[1] != low[1]:
            delta = (0, high[1] - low[1], 0)
        else:
            delta = (0, 0, high[2] - low[2])
        return (newest.rank - mine.rank, *delta)
    return behind(installed, latest, _all_versions(data))


def _current_or_ahead(installed: str, latest: str | None) -> bool | None:
    """``installed >= latest`` by npm's order; None when either is not a version."""
    if latest is None:
        return None
    low, high = _stable_key(installed), _stable_key(latest)
    if low is not None and high is not None:
        return low >= high
    quick = _decided(installed, latest)
    if quick is not None:
        return bool(quick[0] >= quick[1])
    mine, newest = _semver(installed), _semver(latest)
    if mine is None or newest is None:
        return None
    return bool(mine.compare(newest) >= 0)


def facts_for(name: str, version: str, data: Mapping[str, Any], now: datetime) -> PackageFacts:
    """Metrics for ``name@version`` from :func:`pack`'s output, at time ``now``."""
    from depaudit.models import PackageFacts

    state = data.get("state")
    created = parse_time(data.get("created"))
    if state == STATE_MISSING:
        return PackageFacts(name=name, version=version, in_registry=False)
    if state == STATE_UNPUBLISHED:
        return PackageFacts(
            name=name, version=version, in_registry=False, unpublished=True, created=created
        )
    raw_latest = data.get("latest")
    latest = raw_latest if isinstance(raw_latest, str) else None
    mine = _lookup(data, version)
    newest = _lookup(data, latest) if latest is not None else None
    present = mine is not None
    installed_at = parse_time(mine.published) if mine is not None else None
    latest_at = parse_time(newest.published) if newest is not None else None
    last_release = parse_time(data.get("last_release"))
    counts = _behind_packed(data, version, mine, latest, newest) if latest else None
    libyears: float | None = None
    if _current_or_ahead(version, latest):
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
        age_days=days_between(now, installed_at) if installed_at else None,
        days_since_release=days_between(now, last_release) if last_release else None,
        deprecated=mine.message if mine is not None else None,
        deprecation_known=present,
        package_deprecated=(newest.message is not None) if newest is not None else None,
        repository=data.get("repository"),
    )
