"""``_lockgraph.is_semver``: what a pnpm or bun lockfile's version must be to name a registry
package, as node-semver's strict parser says, without importing it for releases and
prereleases."""

from __future__ import annotations

import nodesemver
from hypothesis import example, given, settings
from hypothesis import strategies as st

from conftest import modules_loaded
from depaudit.sources._lockgraph import is_semver

numbers = st.sampled_from(["0", "1", "12", "01", "9007199254740993"])
versions = st.one_of(
    st.builds(
        lambda v, a, b, c, tail: f"{v}{a}.{b}.{c}{tail}",
        st.sampled_from(["", "", "v", "="]),
        numbers,
        numbers,
        numbers,
        st.sampled_from(["", "-rc.1", "-0", "-01", "-x-y.2", "beta", "-rc.1+b.2", "+b", "-", "\n"]),
    ),
    st.text(alphabet="0123456789.-+abv", max_size=12),
)


def _strict(version: str) -> bool:
    try:
        return nodesemver.valid(version, loose=False) is not None
    except Exception:
        return False


@given(versions)
@example("1.0.0-rc.1")
@example("1.0.0-01")
@settings(max_examples=500, deadline=None)
def test_is_semver_is_node_semvers_strict_reading(version: str) -> None:
    assert is_semver(version) is _strict(version)


def test_releases_and_prereleases_need_no_node_semver() -> None:
    assert is_semver("1.2.3") and is_semver("2.0.0-next.7") and is_semver("0.0.1-x-y.2")
    code = (
        "from depaudit.sources._lockgraph import is_semver\n"
        "is_semver('1.2.3'), is_semver('2.0.0-next.7'), is_semver('0.0.1-x-y.2')\n"
    )
    assert modules_loaded(code, ("nodesemver",)) == []
