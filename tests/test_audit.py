"""audit.py: the Auditor merges what the services say, records the services that failed, and
asks the repository service only for the top suspects; build_report, the composition root,
opens the one cache and closes it again."""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import ClassVar

import pytest

from depaudit import audit
from depaudit.audit import Auditor, build_report, package_refs
from depaudit.cache import Cache
from depaudit.config import Settings
from depaudit.models import DependencyTree, Package, PackageFacts, SourceInfo
from depaudit.scoring import LeakScorer
from depaudit.services.interface import EnrichmentResult, EnrichmentService, PackageRef


def _tree() -> DependencyTree:
    return DependencyTree(
        source=SourceInfo(kind="package-lock", path="package-lock.json", lockfile_version=3),
        root_name="app",
        root_version="1.0.0",
        packages=(
            Package(name="a", version="1.0.0", location="node_modules/a"),
            Package(name="a", version="1.0.0", location="node_modules/b/node_modules/a", dev=True),
            Package(name="d", version="2.0.0", location="node_modules/d", dev=True),
        ),
    )


class _Fixed(EnrichmentService):
    name: ClassVar[str] = "fixed"

    def __init__(self, result: EnrichmentResult, name: str = "fixed") -> None:
        self.result = result
        self.name = name  # type: ignore[misc]
        self.asked: list[Sequence[PackageRef]] = []

    def enrich_all(self, packages: Sequence[PackageRef]) -> EnrichmentResult:
        self.asked.append(packages)
        return self.result


def test_package_refs_are_unique_and_dev_only_when_every_placement_is() -> None:
    assert package_refs(_tree()) == [
        PackageRef("a", "1.0.0", False),
        PackageRef("d", "2.0.0", True),
    ]


def test_facts_of_several_services_are_merged_and_failures_recorded() -> None:
    first = _Fixed(
        EnrichmentResult(
            facts={"a@1.0.0": PackageFacts(name="a", version="1.0.0", latest="3.0.0")},
            warnings=("first warns",),
            consulted="first: 2 asked",
        ),
        "first",
    )
    second = _Fixed(
        EnrichmentResult(
            facts={"a@1.0.0": PackageFacts(name="a", version="1.0.0", deprecated="use b")},
            failed=True,
        ),
        "second",
    )
    report = Auditor(tree=_tree(), services=[first, second], scorer=LeakScorer()).run()
    merged = report.facts["a@1.0.0"]
    assert merged.latest == "3.0.0" and merged.deprecated == "use b"
    assert "first warns" in report.warnings and "first: 2 asked" in report.consulted
    assert report.failed == ("second",)
    assert len(first.asked) == 1 and len(first.asked[0]) == 2  # every name@version, once


def test_build_report_opens_one_cache_and_closes_it(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    opened: list[Cache] = []
    closed: list[Cache] = []

    class Counting(Cache):
        def __init__(self, *args: object, **kwargs: object) -> None:
            super().__init__(*args, **kwargs)  # type: ignore[arg-type]
            opened.append(self)

        def close(self) -> None:
            closed.append(self)
            super().close()

        def checkpoint_behind(self) -> None:  # (asked once the services are done)
            settled.append(self)
            assert self not in closed
            super().checkpoint_behind()

    settled: list[Cache] = []
    monkeypatch.setattr(audit, "Cache", Counting)
    settings = Settings(
        directory=tmp_path,
        cache_dir=tmp_path / "cache",
        offline=True,
        github_api_url="http://127.0.0.1:9",
    )
    report, scorer = build_report(settings, _tree(), audit.utc_now)
    assert len(opened) == 1 and closed == opened and settled == opened
    assert report.tree.root_name == "app" and isinstance(scorer, LeakScorer)


def test_settled_is_called_once_every_service_has_answered_and_before_the_scoring() -> None:
    """``settled`` (the cache's ``checkpoint_behind``) marks the end of the services' cache
    writes: called once, after every service has answered, before the first ranking."""
    moments: list[str] = []

    class Recording(_Fixed):
        def enrich_all(self, packages: Sequence[PackageRef]) -> EnrichmentResult:
            moments.append(f"{self.name} answered")
            return super().enrich_all(packages)

    class Scoring(LeakScorer):
        def __call__(self, *args: object, **kwargs: object) -> list:  # type: ignore[override]
            moments.append("scored")
            return super().__call__(*args, **kwargs)  # type: ignore[arg-type]

    Auditor(
        tree=_tree(),
        services=[Recording(EnrichmentResult(), "first"), Recording(EnrichmentResult(), "second")],
        scorer=Scoring(),
        settled=lambda: moments.append("settled"),
    ).run()
    assert moments[-2:] == ["settled", "scored"]
    assert sorted(moments[:2]) == ["first answered", "second answered"]


def test_the_core_reads_no_environment() -> None:
    source = Path(audit.__file__).read_text(encoding="utf-8")
    assert "os.environ" not in source and "getenv" not in source


class _Meeting(EnrichmentService):
    """Says it started, then waits for ``other`` to have started too: only services run at
    the same time get past it."""

    name: ClassVar[str] = "meeting"

    def __init__(self, name: str, mine: threading.Event, other: threading.Event) -> None:
        self.name = name  # type: ignore[misc]
        self.mine, self.other = mine, other

    def enrich_all(self, packages: Sequence[PackageRef]) -> EnrichmentResult:
        self.mine.set()
        met = self.other.wait(10)
        return EnrichmentResult(warnings=(f"{self.name} met: {met}",), consulted=self.name)


class _Long(_Meeting):
    """The registry's part: says when its requests are out (``under_way``), then waits."""

    runs_long: ClassVar[bool] = True
    started_before_under_way: bool | None = None

    def enrich_all(self, packages: Sequence[PackageRef]) -> EnrichmentResult:
        self.started_before_under_way = self.other.wait(0.3)  # nothing else may start yet
        if self.under_way is not None:
            self.under_way()
        return super().enrich_all(packages)


def test_services_run_at_once_and_merge_in_their_order() -> None:
    """The registry (runs_long) and the advisories wait on the network at the same time; the
    report still lists them in the services' order."""
    a, b = threading.Event(), threading.Event()
    long = _Long("second", b, a)
    report = Auditor(tree=_tree(), services=[_Meeting("first", a, b), long]).run()
    assert report.warnings == ("first met: True", "second met: True")
    assert report.consulted == ("first", "second")
    # the others wait for the long one's requests to be out: started earlier, their Python
    # delayed its first requests
    assert long.started_before_under_way is False
    assert long.under_way is None  # the hook is taken back


def test_the_others_start_when_the_long_service_returns_without_saying_so() -> None:
    """A registry answered from the cache sends nothing, so it never says ``under_way``: the
    rest starts when it returns."""

    class Quiet(_Fixed):
        runs_long: ClassVar[bool] = True

    quiet = Quiet(EnrichmentResult(consulted="quiet"), "quiet")
    first = _Fixed(EnrichmentResult(consulted="first"), "first")
    report = Auditor(tree=_tree(), services=[first, quiet], scorer=LeakScorer()).run()
    assert report.consulted == ("first", "quiet")
    assert len(first.asked) == 1


def test_the_runtime_work_runs_beside_the_services_and_its_tree_is_reported() -> None:
    service_started, runtime_started = threading.Event(), threading.Event()

    def runtime(tree: DependencyTree) -> DependencyTree:
        runtime_started.set()
        met = service_started.wait(10)
        return tree.evolve(warnings=(*tree.warnings, f"runtime met: {met}"))

    report = Auditor(
        tree=_tree(),
        services=[_Long("registry", service_started, runtime_started)],
        scorer=LeakScorer(),
        prepare=runtime,
    ).run()
    assert report.warnings == ("runtime met: True", "registry met: True")  # tree's first
    assert report.tree.warnings == ("runtime met: True",)


def test_the_callers_work_starts_with_the_rest() -> None:
    """``beside`` (the app's code scan) is called once, when the long service says its
    requests are out, not before: with the other services."""
    a, b = threading.Event(), threading.Event()
    long = _Long("registry", b, a)
    calls: list[bool] = []

    def beside() -> None:
        calls.append(long.under_way is not None)  # called from the registry's under_way

    report = Auditor(tree=_tree(), services=[_Meeting("first", a, b), long], beside=beside).run()
    assert report.consulted == ("first", "registry")
    assert calls == [True] and long.started_before_under_way is False

    offline: list[int] = []
    Auditor(tree=_tree(), services=[], beside=lambda: offline.append(1)).run()
    assert offline == [1]  # no long service: at once


def test_ctrl_c_in_the_long_service_ends_the_others_requests() -> None:
    """Ctrl-C (or an error) while the registry fetches: the services beside it are told to
    stop their requests (``stop_requests``), so leaving their pool does not wait for them
    (GitHub's pages went on for 16 s after a Ctrl-C)."""
    asking = threading.Event()
    stopped = threading.Event()

    class Asking(_Fixed):
        def enrich_all(self, packages: Sequence[PackageRef]) -> EnrichmentResult:
            asking.set()
            stopped.wait(10)  # a request, until the session's budget expires
            return self.result

        def stop_requests(self) -> None:
            stopped.set()

    class Interrupted(_Fixed):
        runs_long: ClassVar[bool] = True

        def enrich_all(self, packages: Sequence[PackageRef]) -> EnrichmentResult:
            assert self.under_way is not None
            self.under_way()  # its requests are out: the others start
            assert asking.wait(10)
            raise KeyboardInterrupt

    other = Asking(EnrichmentResult(consulted="advisories"), "advisories")
    auditor = Auditor(tree=_tree(), services=[Interrupted(EnrichmentResult(), "registry"), other])
    started = time.monotonic()
    with pytest.raises(KeyboardInterrupt):
        auditor.run()
    assert stopped.is_set()
    assert time.monotonic() - started < 5  # not the 10 s the other would have waited
