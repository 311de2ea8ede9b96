"""``pack_body``: the old path's result (``metrics.pack(metrics.extract_body(body))``) from a
body, by a faster route; these pin the cases the fast route handles by itself (the property
test in tests/property/test_pack_body.py compares the two on generated bodies)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest

from depaudit.services import metrics
from depaudit.services.packument_body import pack_body


def old(body: bytes) -> dict[str, Any]:
    return metrics.pack(metrics.extract_body(body))


def packument(times: dict[str, Any], **extra: Any) -> bytes:
    versions = [k for k in times if k not in ("created", "modified")]
    doc = {
        "name": "p",
        "dist-tags": {"latest": versions[-1] if versions else "1.0.0"},
        "versions": {v: {"name": "p", "version": v} for v in versions},
        "time": times,
        **extra,
    }
    return json.dumps(doc).encode()


NOW = datetime(2026, 1, 1, tzinfo=UTC)


@pytest.mark.parametrize(
    ("stamp", "published", "when"),
    [
        # every version's time of one kind: kept as sent, read back as the time it names
        ("2020-01-02T03:04:05.678Z", "=", datetime(2020, 1, 2, 3, 4, 5, 678000, tzinfo=UTC)),
        ("2020-01-02T03:04:05.000Z", "=", datetime(2020, 1, 2, 3, 4, 5, tzinfo=UTC)),
        ("2024-02-29T00:00:00.000Z", "=", datetime(2024, 2, 29, tzinfo=UTC)),
        ("2023-02-29T00:00:00.000Z", "=", None),  # not a date: unknown, as before
        ("2020-01-02T24:00:00.000Z", "=", None),
        ("2020-01-02T03:04:60.000Z", "=", None),
        ("0000-01-02T03:04:05.000Z", "=", None),
        # beside a time of the other kind (and other forms): rewritten, as before
        ("2020-01-02T03:04:05.678901+00:00", "2020-01-02T03:04:05.678901Z", None),
        ("2020-01-02T03:04:05.000000+00:00", "2020-01-02T03:04:05Z", None),
        ("2020-01-02T03:04:05+00:00", "2020-01-02T03:04:05Z", None),
        ("2020-01-02T03:04:05.678+01:00", "2020-01-02T02:04:05.678000Z", None),
        ("2020-01-02 03:04:05.678Z", "2020-01-02T03:04:05.678000Z", None),
        ("0001-01-01T00:30:00+01:00", "", None),  # before year 1 in UTC (it once raised)
    ],
)
def test_publish_times_as_before(stamp: str, published: str, when: datetime | None) -> None:
    # two versions with the stamp, and one with the registry's own form beside them
    body = packument(
        {"1.0.0": stamp, "1.0.1": stamp, "2.0.0": "2021-01-01T00:00:00.000Z", "created": stamp}
    )
    packed = pack_body(body)
    assert packed == old(body)
    assert f"\n1.0.0\t{stamp if published == '=' else published}\t1\t\n" in packed["index"]
    facts = metrics.facts_for("p", "1.0.0", packed, NOW)
    assert facts.installed_published == (when or metrics.parse_time(published or None))


def test_isoformat_times_kept_as_sent_when_all_are() -> None:
    body = packument(
        {
            "1.0.0": "2020-01-02T03:04:05.678901+00:00",
            "1.0.1": "2020-01-02T03:04:06+00:00",
            "created": "2020-01-02T03:04:05.678901+00:00",
        }
    )
    packed = pack_body(body)
    assert packed == old(body)
    assert "\n1.0.1\t2020-01-02T03:04:06+00:00\t2\t\n" in packed["index"]
    assert packed["last_release"] == "2020-01-02T03:04:06+00:00"
    assert packed["created"] == "2020-01-02T03:04:05.678901Z"  # (the head's: rewritten)
    facts = metrics.facts_for("p", "1.0.0", packed, NOW)
    assert facts.installed_published == datetime(2020, 1, 2, 3, 4, 5, 678901, tzinfo=UTC)


@pytest.mark.parametrize(
    "stamp",
    [
        "2020-01-02T03:04:05.678+01:00",  # another offset
        "2020-01-02T03:04:05.678901-00:00",
        "2020-01-02T03:04:05.678901Z",  # six digits with Z: no kind kept
        "2020-01-02T03:04:05.678+00:00",  # three digits with an offset
        "2020-01-02T03:04:05Z",
    ],
)
def test_times_of_no_kept_kind_are_rewritten_even_when_all_alike(stamp: str) -> None:
    body = packument({"1.0.0": stamp, "1.0.1": stamp})
    packed = pack_body(body)
    assert packed == old(body)
    expected = metrics._iso(metrics.parse_time(stamp))
    assert f"\n1.0.0\t{expected}\t1\t\n" in packed["index"]


def test_last_release_is_the_latest_time_though_not_the_greatest_text() -> None:
    # rewritten (two kinds): "...:05Z" sorts after "...:05.500000Z" as text, but is half a
    # second earlier
    body = packument(
        {"1.0.0": "2020-01-02T03:04:05.000Z", "1.0.1": "2020-01-02T03:04:05.500000+00:00"}
    )
    assert (
        pack_body(body)["last_release"]
        == "2020-01-02T03:04:05.500000Z"
        == old(body)["last_release"]
    )


@pytest.mark.parametrize("first", [True, False])
def test_last_release_as_sent_between_two_texts_of_one_time(first: bool) -> None:
    # the same second with and without its (zero) fraction: the greater text, in either order
    stamps = ["2020-01-02T03:04:05.000000+00:00", "2020-01-02T03:04:05+00:00"]
    if not first:
        stamps.reverse()
    body = packument({"1.0.0": stamps[0], "1.0.1": stamps[1]})
    packed = pack_body(body)
    assert packed == old(body)
    assert packed["last_release"] == "2020-01-02T03:04:05.000000+00:00"


def test_last_release_as_sent_is_a_real_time() -> None:
    # the greatest text is no date (month 13): the latest real one is the last release
    body = packument({"1.0.0": "2020-13-02T03:04:05.000Z", "1.0.1": "2020-01-02T03:04:05.500Z"})
    assert (
        pack_body(body)["last_release"] == "2020-01-02T03:04:05.500Z" == old(body)["last_release"]
    )


def test_ranks_count_stable_releases_at_or_below() -> None:
    body = packument(
        {
            "2.0.0": "2020-01-01T00:00:00.000Z",
            "1.0.0": "2020-01-02T00:00:00.000Z",
            "1.0.0+build": "2020-01-03T00:00:00.000Z",
            "2.0.0-rc.1": "2020-01-04T00:00:00.000Z",
            "1.18446744073709551616.0": "2020-01-05T00:00:00.000Z",  # minor beyond 64 bits
            "x.y": "2020-01-06T00:00:00.000Z",
        }
    )
    packed = pack_body(body)
    assert packed == old(body)
    lines = {line.split("\t")[0]: line.split("\t")[2] for line in packed["index"].split("\n")[1:-1]}
    assert lines == {
        "2.0.0": "4",
        "1.0.0": "2",
        "1.0.0+build": "2",
        "2.0.0-rc.1": "",
        "1.18446744073709551616.0": "3",
        "x.y": "",
    }


@pytest.mark.parametrize(
    ("versions", "times", "gone"),
    [
        (["1.0.0", "1.0.1"], ["1.0.0", "1.0.1", "created", "modified"], []),
        (["1.0.0"], ["1.0.0", "0.9.0", "modified"], ["0.9.0"]),
        (["1.0.0", "1.0.1"], ["1.0.0", "created"], []),  # a version without a time
        (["1.0.0", "1.0.1"], ["1.0.0", "created", "0.9.0"], ["0.9.0"]),
        # a version named as a meta key: the counts alone would miss the gone one
        (["1.0.0", "created"], ["1.0.0", "created", "0.9.0"], ["0.9.0"]),
        (["1.0.0", "unpublished"], ["1.0.0", "unpublished", "modified"], []),
    ],
)
def test_gone_versions(versions: list[str], times: list[str], gone: list[str]) -> None:
    doc = {
        "versions": {v: {} for v in versions},
        "time": dict.fromkeys(times, "2020-01-02T03:04:05.678Z"),
    }
    body = json.dumps(doc).encode()
    packed = pack_body(body)
    assert packed == old(body)
    assert packed["gone"] == gone


def test_deprecations_odd_versions_and_gone_ones() -> None:
    doc = {
        "dist-tags": {"latest": "1.0.1"},
        "versions": {
            "1.0.0": {"deprecated": "use 2"},
            "1.0.1": {"deprecated": "   "},
            "1.0.2\tx": {"deprecated": "use 2"},
            "1.0.3": {"deprecated": "other", "repository": "o/r"},
        },
        "time": {
            "1.0.0": "2020-01-02T03:04:05.678Z",
            "0.9.0": "2019-01-02T03:04:05.678Z",
            "1.0.2\tx": "2020-02-02T03:04:05.678Z",
            "modified": "2021-01-02T03:04:05.678Z",
        },
        "repository": {"type": "git", "url": "git+https://github.com/o/r.git"},
    }
    body = json.dumps(doc).encode()
    packed = pack_body(body)
    assert packed == old(body)
    assert list(packed) == list(old(body))  # same key order in the cache
    assert packed["messages"] == ["use 2", "other"]
    assert packed["odd"] == {"1.0.2\tx": ["2020-02-02T03:04:05.678000Z", None, 0]}
    assert packed["gone"] == ["0.9.0"]
    assert packed["repository"] == "https://github.com/o/r"


@pytest.mark.parametrize(
    "body",
    [
        b'{"versions": {"1.0.0": 3}, "time": {"1.0.0": "2020-01-02T03:04:05.678Z"}}',
        b'{"versions": {"1.0.0": {}}, "versions": {"2.0.0": {}}}',
        b'{"versions": {"1.0.0": {"deprecated": "a"}, "1.0.0": {"deprecated": "b"}}}',
        b'{"versions": {"1.0.0": {"deprecat\\u0065d": "gone"}}}',
        b'{"time": {"unpublished": {"time": "2020-01-02T03:04:05.678Z"}}, "versions": {}}',
        b'{"readme": "\xff", "versions": {"1.0.0": {}}}',  # msgspec skips it, as before
    ],
)
def test_odd_shapes_as_before(body: bytes) -> None:
    assert pack_body(body) == old(body)


@pytest.mark.parametrize(
    "body",
    [b"", b"Not Found", b"[1]", b"\xef\xbb\xbf{}", b'{"a": "\\ud800"}', b'{"versions": "\xff"}'],
)
def test_what_the_old_path_refuses_is_refused(body: bytes) -> None:
    with pytest.raises(ValueError):
        old(body)
    with pytest.raises(ValueError):
        pack_body(body)


def test_only_the_latest_versions_repository_is_read() -> None:
    """A version's repository is kept raw and read for the latest alone, where the
    document names none: another version's is skipped unread, as every field the decoder
    does not name (``readme`` above); the latest's is read, an undecodable one refused, and
    left unread too where the document's own is the repository."""
    good = b'{"type": "git", "url": "git+https://github.com/o/r.git"}'
    body = b'{"dist-tags": {"latest": "2.0.0"}, "versions": {"1.0.0": {"repository": "\xff"},'
    packed = pack_body(body + b' "2.0.0": {"repository": ' + good + b"}}}")
    assert packed["repository"] == "https://github.com/o/r"
    assert packed == old(body + b' "2.0.0": {"repository": ' + good + b"}}}")
    with pytest.raises(ValueError):
        pack_body(body + b' "2.0.0": {"repository": "\xff"}}}')
    with pytest.raises(ValueError):
        old(body + b' "2.0.0": {"repository": "\xff"}}}')
    named = b'{"repository": "github:o/own", ' + body[1:] + b' "2.0.0": {"repository": "\xff"}}}'
    assert pack_body(named)["repository"] == "https://github.com/o/own"
    assert pack_body(named) == old(named)
