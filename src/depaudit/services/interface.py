"""The seam every enrichment service plugs into (registry, advisories, knowledge base)."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Future
from dataclasses import field, replace
from threading import Thread
from typing import ClassVar

from depaudit.models import PackageFacts
from depaudit.slots import dataclass


@dataclass(frozen=True, slots=True)
class PackageRef:
    """A unique name@version to enrich, with what the tree knows about it."""

    name: str
    version: str
    dev: bool = False  # every placement is dev-only

    @property
    def key(self) -> str:
        return f"{self.name}@{self.version}"


@dataclass(frozen=True, slots=True)
class EnrichmentResult:
    """Partial facts by ``name@version`` plus what the service could not do."""

    facts: Mapping[str, PackageFacts] = field(default_factory=dict)
    warnings: tuple[str, ...] = ()
    consulted: str = ""  # one line for the report, e.g. "npm registry: 412 fetched, 88 cached"
    failed: bool = False  # the service could not be used at all (matters under --strict)


class EnrichmentService(ABC):
    """Given its session, cache and base URL by the caller; network I/O lives only here."""

    name: ClassVar[str]
    #: the service a scan waits on longest (the registry's fetch): the Auditor runs it in its
    #: own thread, so Ctrl-C stops it at once; the others run beside it in threads
    runs_long: ClassVar[bool] = False
    #: set by the Auditor on the service that runs long, which calls it once its requests
    #: are out: the other work starts then, so its Python does not delay them
    under_way: Callable[[], None] | None = None

    #: what :meth:`begin` asked: the packages, and the thread's result
    _begun: tuple[frozenset[tuple[str, str]], Future[EnrichmentResult]] | None = None

    @abstractmethod
    def enrich_all(self, packages: Sequence[PackageRef]) -> EnrichmentResult:
        """Learn what it can about every package; never raise for network trouble."""

    def begin(self, packages: Sequence[PackageRef]) -> bool:
        """Ask about ``packages`` now, in a thread of its own: the lockfile's installed
        packages, while ``npm ls`` reads the tree (``app.begin_services``); :meth:`answer`
        takes that result when the tree has the same name@version. True when it began."""
        future: Future[EnrichmentResult] = Future()

        def run() -> None:
            try:
                future.set_result(self.enrich_all(packages))
            except BaseException as exc:  # noqa: BLE001 - raised by answer()
                future.set_exception(exc)

        # a daemon: a scan that ends without its answer (the tree could not be read, Ctrl-C)
        # does not wait for its requests (what it would write to the cache is then lost)
        thread = Thread(target=run, name=f"{self.name}-early", daemon=True)
        self._begun = (frozenset((p.name, p.version) for p in packages), future)
        thread.start()
        return True

    def abandon(self) -> None:
        """What :meth:`begin` asked, and the scan will not take (its tree could not be read,
        Ctrl-C): its thread, a daemon, is not waited for and its answer is dropped, and it
        sends nothing more (:meth:`stop_requests`). It used to go on asking after the scan
        had closed its cache (the npm advisories, then GitHub's pages, one by one)."""
        begun, self._begun = self._begun, None
        if begun is not None and not begun[1].done():
            self.stop_requests()

    def stop_requests(self) -> None:
        """End this service's requests: those in flight, and any it would start. For a
        service whose session has a run budget (``http.RunBudget``), its expiry does both.
        None here: a service that asks nothing of the network (the knowledge base)."""
        return None

    def answer(self, packages: Sequence[PackageRef]) -> EnrichmentResult:
        """:meth:`enrich_all` of ``packages``, or what :meth:`begin` asked, for the same
        name@version. Where the tree differs from the lockfile (npm ls found a version
        other than the locked one installed, or one the lockfile does not have), the facts
        are those of the tree's packages, only the others are asked now, and the line said
        in the report says both."""
        begun, self._begun = self._begun, None
        if begun is None:
            return self.enrich_all(packages)
        asked, future = begun
        result = future.result()
        if asked == {(p.name, p.version) for p in packages}:
            return result
        keys = {p.key for p in packages}
        facts = {key: found for key, found in result.facts.items() if key in keys}
        said = f"{result.consulted} (for the lockfile's {len(asked)} installed versions)"
        others = [p for p in packages if (p.name, p.version) not in asked]
        if not others or result.failed:  # (not asked again where it could not be used)
            return replace(result, facts=facts, consulted=said)
        more = self.enrich_all(others)
        return EnrichmentResult(
            facts={**facts, **more.facts},
            warnings=tuple(dict.fromkeys((*result.warnings, *more.warnings))),
            consulted=f"{said}; then {more.consulted} (for {len(others)} more npm ls found)",
            failed=result.failed and more.failed,
        )
