"""``metrics.extract_body`` decodes only the fields ``extract`` reads (a profile hot spot, see
benchmarks/README.md); for any body it must give what the full decode gives, or the same
error."""

from __future__ import annotations

import json
from typing import Any

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from depaudit.services.metrics import extract, extract_body

leaf = st.none() | st.booleans() | st.integers() | st.text(max_size=12)
value: Any = st.recursive(
    leaf,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=8,
)
version_key = st.sampled_from(["1.0.0", "1.1.0", "2.0.0-rc.1", "2.0.0", "latest"])
manifest = (
    st.fixed_dictionaries(
        {},
        optional={
            "deprecated": st.none() | st.text(max_size=10) | st.booleans(),
            "repository": value,
            "dependencies": value,
            "name": st.text(max_size=5),
        },
    )
    | value
)
timestamp = st.sampled_from(
    ["2020-01-02T03:04:05.000Z", "2025-11-17T18:28:56.206000+00:00", "garbage", ""]
)
packument = (
    st.fixed_dictionaries(
        {},
        optional={
            "name": st.text(max_size=5),
            "dist-tags": st.dictionaries(st.sampled_from(["latest", "next"]), version_key) | value,
            "versions": st.dictionaries(version_key, manifest, max_size=5) | value,
            "time": st.dictionaries(
                version_key | st.sampled_from(["created", "modified"]),
                timestamp | value,
                max_size=6,
            )
            | st.fixed_dictionaries({"unpublished": st.fixed_dictionaries({"time": timestamp})})
            | value,
            "repository": value,
            "readme": st.text(max_size=20),
        },
    )
    | value
)


def outcome(fn: Any, body: bytes) -> Any:
    try:
        return ("ok", fn(body))
    except ValueError:
        return ("error", "ValueError")


@settings(max_examples=500, deadline=None)
@given(packument)
def test_slim_decode_equals_full_decode(doc: Any) -> None:
    body = json.dumps(doc).encode()
    assert outcome(extract_body, body) == outcome(lambda b: extract(orjson.loads(b)), body)


@pytest.mark.parametrize("body", [b"", b"not json", b"{", b"[1, 2]", b'"text"', b"null"])
def test_bad_bodies_raise_value_error(body: bytes) -> None:
    with pytest.raises(ValueError):
        extract_body(body)


def test_real_shape_keeps_deprecation_repository_and_times() -> None:
    body = json.dumps(
        {
            "_id": "request",
            "name": "request",
            "dist-tags": {"latest": "2.88.2"},
            "time": {"2.88.0": "2018-08-10T19:52:34.155Z", "2.88.2": "2020-02-11T16:35:14.718Z"},
            "versions": {
                "2.88.0": {"name": "request", "dependencies": {"aws4": "^1.8.0"}},
                "2.88.2": {
                    "name": "request",
                    "deprecated": "request has been deprecated",
                    "repository": {
                        "type": "git",
                        "url": "git+https://github.com/request/request.git",
                    },
                },
            },
        }
    ).encode()
    facts = extract_body(body)
    assert facts == extract(orjson.loads(body))
    assert facts["latest"] == "2.88.2"
    assert facts["deprecated"] == {"2.88.2": "request has been deprecated"}
    assert facts["repository"] == "https://github.com/request/request"
    assert set(facts["versions"]) == {"2.88.0", "2.88.2"}
