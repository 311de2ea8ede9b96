"""``packument_body.pack_body`` must give, for every body, what the old path gives:
``metrics.pack(metrics.extract_body(body))``, the same error included. The bodies here are
written by hand-rolled JSON writing so that they can hold what ``json.dumps`` never writes:
duplicated keys, keys and values spelled with ``\\u`` escapes, a byte order mark, invalid
UTF-8, lone surrogates, huge numbers; and timestamps of every near-miss of the registry's
forms (the fast path rewrites those as strings)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any
from unittest import mock

import orjson
from hypothesis import given, settings
from hypothesis import strategies as st

from depaudit.services import metrics, packument_body


def old(body: bytes) -> dict[str, Any]:
    return metrics.pack(metrics.extract_body(body))


def outcome(fn: Any, body: bytes) -> Any:
    try:
        return ("ok", fn(body))
    except ValueError:
        return ("error", "ValueError")


class Pairs(list[tuple[str, Any]]):
    """A JSON object written as these pairs, in order, duplicates kept."""


def escaped(text: str, mask: int) -> str:
    """``text`` as a JSON string, the characters picked by ``mask``'s bits as ``\\uXXXX``."""
    out = []
    for i, ch in enumerate(text):
        if mask >> (i % 30) & 1 and ord(ch) < 0x10000:
            out.append(f"\\u{ord(ch):04{'x' if i % 2 else 'X'}}")
        else:
            out.append(json.dumps(ch, ensure_ascii=False)[1:-1])
    return '"' + "".join(out) + '"'


def write(value: Any, mask: int) -> str:
    if isinstance(value, Pairs):
        return "{" + ",".join(f"{escaped(k, mask)}:{write(v, mask)}" for k, v in value) + "}"
    if isinstance(value, dict):
        return write(Pairs(value.items()), mask)
    if isinstance(value, list):
        return "[" + ",".join(write(v, mask) for v in value) + "]"
    if isinstance(value, str):
        return escaped(value, mask)
    return json.dumps(value)


def stamps_of(tz: Any) -> Any:
    """Real times in the registry's form (``tz`` "Z": milliseconds) or ``isoformat``'s in UTC
    ("+00:00": 6 fraction digits, or none)."""
    return st.builds(
        lambda y, mo, d, h, mi, s, ms, six, tz: (
            f"{y:04d}-{mo:02d}-{d:02d}T{h:02d}:{mi:02d}:{s:02d}"
            + (f".{ms:03d}Z" if tz == "Z" else (f".{six:06d}" if six % 3 else "") + "+00:00")
        ),
        st.integers(1, 9999),
        st.integers(1, 12),
        st.integers(1, 29),
        st.integers(0, 23),
        st.integers(0, 59),
        st.integers(0, 59),
        st.integers(0, 999) | st.just(0),
        st.integers(0, 999_999) | st.just(0),
        tz,
    )


good_time = stamps_of(st.sampled_from(["Z", "+00:00"]))
#: one kind for every version of a document: the index keeps them as sent
zulu_time = stamps_of(st.just("Z"))
utc_time = stamps_of(st.just("+00:00"))
# one thing wrong (or merely different) in a good timestamp
NEAR_MISSES = [
    ("Z", "+00:00"),
    ("Z", "-00:00"),
    ("Z", "+01:00"),
    ("Z", ""),
    ("Z", "z"),
    ("Z", "+0000"),
    ("+00:00", "Z"),
    ("+00:00", "+01:00"),
    ("+00:00", "-00:00"),
    ("+00:00", "+00:30"),
    ("T", " "),
    ("T", "t"),
    (".", ","),
    ("-", "/"),
    ("0", "\u0660"),
    ("1", "\uff11"),
]


@st.composite
def near_time(draw: Any, base: Any = good_time, shaped: bool = False) -> str:
    """A near miss of a ``base`` stamp; ``shaped``: only a field out of range (the stamp
    keeps its form, of a date or a time that does not exist)."""
    stamp: str = draw(base)
    low, high = len(NEAR_MISSES), len(NEAR_MISSES) + 6
    how = draw(st.integers(low, high - 1) if shaped else st.integers(0, high))
    if how < len(NEAR_MISSES):
        old_part, new_part = NEAR_MISSES[how]
        return stamp.replace(old_part, new_part, 1)
    fields = {
        len(NEAR_MISSES): (0, 4, ["0000", "1900", "2000", "2023", "2024", "2100"]),
        len(NEAR_MISSES) + 1: (5, 7, ["00", "13", "02", "99"]),
        len(NEAR_MISSES) + 2: (8, 10, ["00", "29", "30", "31", "32"]),
        len(NEAR_MISSES) + 3: (11, 13, ["24", "25", "99"]),
        len(NEAR_MISSES) + 4: (14, 16, ["60", "99"]),
        len(NEAR_MISSES) + 5: (17, 19, ["60", "61"]),
    }
    if how in fields:
        start, end, choices = fields[how]
        return stamp[:start] + draw(st.sampled_from(choices)) + stamp[end:]
    return stamp[:19] + draw(st.sampled_from([".5", ".1234567", ".12", ".1234"])) + stamp[-1]


timestamp = good_time | near_time() | st.text(max_size=8) | st.none() | st.integers()
version = st.sampled_from(
    [
        "1.0.0",
        "1.0.1",
        "1.1.0",
        "2.0.0-rc.1",
        "2.0.0",
        "0.0.0",
        "1.0.0+build",
        "01.0.0",
        "1.18446744073709551616.0",
        "v1",
        "3.0.0\tx",
        "4.0.0\ny",
        "latest",
        "",
        "1.2",
    ]
) | st.text(max_size=6)
leaf = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=6)
value: Any = st.recursive(
    leaf,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3)
    ),
    max_leaves=6,
)
repository = (
    st.sampled_from(
        ["git+https://github.com/o/r.git", "o/r", "github:o/r", "git@gitlab.com:o/r.git", ""]
    )
    | st.fixed_dictionaries(
        {"type": st.just("git"), "url": st.text(max_size=8) | st.just("git://h/o/r")}
    )
    | value
)


def pairs_of(keys: Any, values: Any, max_size: int) -> Any:
    return st.lists(st.tuples(keys, values), max_size=max_size).map(Pairs)


manifest = (
    pairs_of(
        st.sampled_from(["deprecated", "repository", "name", "deprecated", "readme"]),
        st.text(max_size=6) | st.just("  ") | repository | st.none(),
        4,
    )
    | value
)
times = st.one_of(
    pairs_of(version | st.sampled_from(["created", "modified", "gone-1.0.0"]), good_time, 8),
    pairs_of(version | st.sampled_from(["created", "modified", "unpublished"]), timestamp, 6),
    st.fixed_dictionaries({"unpublished": st.fixed_dictionaries({"time": timestamp})}),
    value,
)
loose_packument = (
    pairs_of(
        st.sampled_from(["versions", "time", "dist-tags", "repository", "readme", "name"]),
        st.one_of(
            pairs_of(version, manifest, 6),
            times,
            st.fixed_dictionaries({"latest": version}) | value,
            repository,
        ),
        6,
    )
    | value
)
manifest_ok = pairs_of(
    st.sampled_from(["deprecated", "repository", "name", "deprecated", "dist"]),
    st.text(max_size=6) | st.just(" ") | repository | st.none() | st.booleans(),
    4,
)


@st.composite
def packument_ok(draw: Any) -> Pairs:
    """A packument of the registry's shape (mostly): times for its versions, some gone."""
    versions = draw(pairs_of(version, manifest_ok, 8))
    stamp = draw(
        st.sampled_from(
            [
                good_time,
                good_time,
                timestamp,
                zulu_time,
                utc_time,
                zulu_time | near_time(zulu_time, shaped=True),
                utc_time | near_time(utc_time, shaped=True),
            ]
        )
    )
    complete = draw(st.booleans())  # a time for every version: the bulk rewrite's case
    time = Pairs((v, draw(stamp)) for v, _ in versions if complete or draw(st.integers(0, 3)))
    time.extend(draw(pairs_of(st.sampled_from(["created", "modified", "0.9.0"]), stamp, 3)))
    fields = [
        ("name", "x"),
        ("dist-tags", draw(st.fixed_dictionaries({"latest": version}) | value)),
        ("versions", versions),
        ("time", draw(st.permutations(time)) if draw(st.booleans()) else time),
        ("repository", draw(repository)),
        ("readme", draw(st.text(max_size=10))),
    ]
    fields = [f for f in draw(st.permutations(fields)) if draw(st.integers(0, 5))]
    if fields and not draw(st.integers(0, 9)):
        name = draw(st.sampled_from(fields))[0]
        fields.insert(draw(st.integers(0, len(fields))), (name, draw(loose_packument)))
    return Pairs(fields)


packument = packument_ok() | packument_ok() | loose_packument


@st.composite
def body(draw: Any) -> bytes:
    doc = draw(packument)
    mask = draw(st.sampled_from([0, 0, 0, 1, 0b1010, 2**30 - 1]) | st.integers(0, 2**30 - 1))
    text = write(doc, mask).encode()
    spoil = draw(
        st.sampled_from(
            [
                None,
                None,
                None,
                b"\xef\xbb\xbf",
                b"\xff",
                b'"\\ud800"',
                b"1e400",
                b"123456789012345678901234567890",
                b" ",
                b",",
                b"x",
            ]
        )
    )
    if spoil is None:
        return text
    where = draw(st.integers(0, len(text)))
    if spoil == b"\xef\xbb\xbf" and draw(st.booleans()):
        where = 0
    return text[:where] + spoil + text[where:]


@settings(max_examples=1500, deadline=None)
@given(body())
def test_pack_body_is_the_old_path(raw: bytes) -> None:
    assert outcome(packument_body.pack_body, raw) == outcome(old, raw)


NOW = datetime(2026, 1, 1, tzinfo=UTC)


def facts_of(packed: dict[str, Any], versions: list[Any]) -> list[Any]:
    out = []
    for v in versions:
        try:
            out.append(metrics.facts_for("p", v, packed, NOW))
        except ValueError as exc:  # a damaged line (none here): the same either way
            out.append(("error", str(exc)))
    return out


@settings(max_examples=800, deadline=None)
@given(body(), version)
def test_facts_are_the_same_with_times_kept_as_sent(raw: bytes, other: str) -> None:
    """Every version's facts (ages, libyears, the last release...) from the index that keeps a
    document's times as sent are those of the index that rewrote every time (the cache's form
    before, still read: ``kept_as_sent`` made to say no)."""
    try:
        packed = packument_body.pack_body(raw)
    except ValueError:
        return
    with mock.patch.object(metrics, "kept_as_sent", lambda stamps: False):
        rewritten = metrics.pack(metrics.extract_body(raw))
    if packed.get("state") != metrics.STATE_OK:
        assert packed == rewritten
        return
    versions = [line.split("\t", 1)[0] for line in packed["index"][1:-1].split("\n") if line]
    latest = packed.get("latest")
    versions += [*packed["odd"], other, "9.9.9", *([latest] if latest else [])]
    assert facts_of(packed, versions) == facts_of(rewritten, versions)
    assert metrics.parse_time(packed["last_release"]) == metrics.parse_time(
        rewritten["last_release"]
    )


@settings(max_examples=1000, deadline=None)
@given(
    st.one_of(
        st.lists(timestamp, max_size=6),
        st.sampled_from([zulu_time, utc_time, good_time]).flatmap(
            lambda kind: st.lists(kind | near_time(kind), max_size=8)
        ),
    )
)
def test_the_bulk_check_keeps_as_sent_what_the_reference_does(stamps: list[Any]) -> None:
    """``pack_body``'s one pass over the joined text says "as sent" exactly where
    ``metrics.kept_as_sent`` does (and the index then holds the stamps themselves)."""
    try:
        joined: str | None = "\n".join(stamps)
    except TypeError:
        joined = None
    counts = packument_body._shapes(stamps, joined) if joined is not None and stamps else None
    fast = joined is not None and counts is not None and packument_body._as_sent(counts, joined)
    assert fast == metrics.kept_as_sent(stamps)
    if fast:
        assert packument_body._published_all(stamps)[0] == stamps


@settings(max_examples=300, deadline=None)
@given(
    st.sampled_from([zulu_time, utc_time]).flatmap(
        lambda kind: st.lists(kind | near_time(kind, shaped=True), min_size=1, max_size=12)
    )
)
def test_times_of_one_kind_are_kept_as_sent(stamps: list[str]) -> None:
    doc = {"versions": {f"1.0.{i}": {} for i in range(len(stamps))}}
    doc["time"] = {f"1.0.{i}": t for i, t in enumerate(stamps)}
    packed = packument_body.pack_body(json.dumps(doc).encode())
    assert metrics.kept_as_sent(stamps)
    assert (
        packed["index"]
        == "".join(f"\n1.0.{i}\t{t}\t{i + 1}\t" for i, t in enumerate(stamps)) + "\n"
    )
    real = [t for t in stamps if metrics.parse_time(t) is not None]
    assert packed["last_release"] == (max(real) if real else None)


@settings(max_examples=500, deadline=None)
@given(
    st.lists(good_time, min_size=1, max_size=12),
    st.lists(near_time(), max_size=2),
    st.lists(version, max_size=12),
)
def test_many_timestamps_take_the_bulk_rewrite_or_the_old_conversion(
    stamps: list[str], near: list[str], names: list[str]
) -> None:
    stamps = stamps + near
    names = list(dict.fromkeys(names + [f"9.9.{i}" for i in range(len(stamps))]))
    doc = {
        "dist-tags": {"latest": names[0]},
        "versions": {n: {} for n in names},
        "time": {n: stamps[i % len(stamps)] for i, n in enumerate(names)},
    }
    raw = json.dumps(doc).encode()
    assert packument_body.pack_body(raw) == old(raw)
    assert packument_body.pack_body(raw) == metrics.pack(metrics.extract(orjson.loads(raw)))


@settings(max_examples=300, deadline=None)
@given(st.lists(good_time, min_size=1, max_size=30))
def test_last_release_is_the_latest_in_time_not_in_text(stamps: list[str]) -> None:
    doc = {"versions": {f"1.0.{i}": {} for i in range(len(stamps))}}
    doc["time"] = {f"1.0.{i}": t for i, t in enumerate(stamps)}
    raw = json.dumps(doc).encode()
    assert packument_body.pack_body(raw)["last_release"] == old(raw)["last_release"]


# version-shaped strings: a triple (leading zeros sometimes), then nothing, a prerelease, a
# loose prerelease (a letter straight after the triple), build metadata, or anything short;
# a leading "v" or "=" sometimes (loose forms node-semver reads)
near_version = st.builds(
    lambda prefix, parts, tail: prefix + ".".join(parts) + tail,
    st.sampled_from(["", "", "", "v", "=", " "]),
    st.lists(st.from_regex(r"\A(0|[1-9][0-9]{0,3}|0[0-9])\Z"), min_size=2, max_size=4),
    st.sampled_from(["", "-", "-rc.1", "-0", "-beta-2", "beta2", "a", "+build", "+", "-rc+b.1"])
    | st.text(max_size=4),
)


@settings(max_examples=500, deadline=None)
@given(st.lists(near_version | version, max_size=12))
def test_stable_ints_order_as_stable_keys(versions: list[str]) -> None:
    """``_stable_int`` (the prerelease test first, then the plain release's integer) says
    None exactly where ``metrics._stable_key`` does, and orders the rest as its keys do."""
    ints = [packument_body._stable_int(v) for v in versions]
    keys = [metrics._stable_key(v) for v in versions]
    assert [i is None for i in ints] == [k is None for k in keys]
    pairs = [(i, k) for i, k in zip(ints, keys, strict=True) if k is not None]
    for i, k in pairs:
        for j, m in pairs:
            if i != packument_body._BIG and j != packument_body._BIG:
                assert (i < j) == (k < m) and (i == j) == (k == m)
