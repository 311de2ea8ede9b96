"""How the registry's session is made, as a value that crosses a pipe: the scan makes its
session from it, and a fetch worker (``services/fetch_worker.py``) makes the same session in
its own process.

A module of its own so that the registry service holds a recipe without importing the fetch
workers' side (their frames, pickling, the run budget's sockets): a warm scan, which fetches
nothing, never imports them.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from depaudit.slots import dataclass

if TYPE_CHECKING:
    from depaudit.http import DepauditSession
    from depaudit.npmrc import NpmConfig
    from depaudit.run_budget import RunBudget
    from depaudit.transport import PlainSession


@dataclass(frozen=True)
class SessionRecipe:
    """How the registry's session is made (:func:`depaudit.http.build_session` with
    ``config``'s credentials and npm network settings): a value that crosses a pipe, so a
    worker makes the same session in its own process. Called, it makes the session."""

    jobs: int
    config: NpmConfig
    network_seconds: float
    response_bytes: int
    tuning: Mapping[str, Any]

    def __call__(self) -> DepauditSession:
        return self.build(self.network_seconds, self.response_bytes)

    def build(
        self,
        network_seconds: float,
        response_bytes: int,
        make: Callable[..., DepauditSession] | None = None,
        budget: RunBudget | None = None,
    ) -> DepauditSession:
        """The session, with these budgets (a worker's: what the run has left), or with the
        run's ``budget`` made already (the scan's), made by ``make``
        (:func:`depaudit.http.build_session` unless given)."""
        if make is None:
            from depaudit.http import build_session as make
        assert make is not None
        session: DepauditSession = self._made(make, network_seconds, response_bytes, budget)
        return session

    def for_worker(
        self, network_seconds: float, response_bytes: int
    ) -> DepauditSession | PlainSession:
        """A fetch worker's session: without requests where the environment gives it
        nothing to read (:func:`depaudit.transport.plain_environment`)."""
        from depaudit.transport import plain_environment, plain_session

        if not plain_environment():
            return self.build(network_seconds, response_bytes)
        plain: PlainSession = self._made(plain_session, network_seconds, response_bytes, None)
        return plain

    def plain(self, budget: RunBudget) -> PlainSession:
        """The session without ``requests`` (:func:`depaudit.transport.plain_session`), on
        the run's ``budget``: for a :func:`~depaudit.transport.plain_environment` only."""
        from depaudit.transport import plain_session

        made: PlainSession = self._made(
            plain_session, self.network_seconds, self.response_bytes, budget
        )
        return made

    def _made(
        self, make: Callable[..., Any], seconds: float, size: int, budget: RunBudget | None
    ) -> Any:
        return make(
            self.jobs,
            self.config.auth_for,
            network_seconds=seconds,
            response_bytes=size,
            network=self.config.network,
            **({"budget": budget} if budget is not None else {}),
            **self.tuning,
        )
