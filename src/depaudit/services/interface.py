"""The seam every enrichment service plugs into (registry, advisories, knowledge base)."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import ClassVar

from depaudit.models import PackageFacts


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

    @abstractmethod
    def enrich_all(self, packages: Sequence[PackageRef]) -> EnrichmentResult:
        """Learn what it can about every package; never raise for network trouble."""
