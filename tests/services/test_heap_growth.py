from __future__ import annotations

from depaudit.models import MeasuredGrowth
from depaudit.services.heap_growth import HeapGrowthService
from depaudit.services.interface import PackageRef


def _owner(name: str, version: str | None, size: int, source: str, kind: str = "package"):  # type: ignore[no-untyped-def]
    return MeasuredGrowth(kind, name, version, f"node_modules/{name}", None, None, size, size, 1,
                          "Object", "a → b", source)  # fmt: skip


def test_package_owners_become_facts_and_snapshots_win_over_a_profile() -> None:
    owners = [
        _owner("debug", "3.1.0", 100, "heap profile"),
        _owner("debug", "3.1.0", 900, "2 heap snapshots"),
        _owner("ws", "8.0.0", 50, "2 heap snapshots"),
        _owner("app.js", None, 70, "2 heap snapshots", kind="app"),
        _owner("ghost", "1.0.0", 10, "2 heap snapshots"),
    ]
    result = HeapGrowthService(owners, ("a warning",)).enrich_all(
        [PackageRef("debug", "3.1.0"), PackageRef("ws", "8.0.0")]
    )
    assert set(result.facts) == {"debug@3.1.0", "ws@8.0.0"}
    growth = result.facts["debug@3.1.0"].growth
    assert growth is not None and growth.growth_bytes == 900
    assert result.warnings == (
        "a warning",
        "measured heap growth of ghost@1.0.0 matches no package of the tree",
    )
