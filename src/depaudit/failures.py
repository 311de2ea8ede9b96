"""How a request failed, in the few words a warning gives (:func:`describe_failure`), and as
the scan records it (:func:`failure_of`), with or without ``requests``.

libcurl's failures (:class:`~depaudit.http_bulk.BulkFetcher`) are :class:`TransportError`
instances of the kind requests would have raised for each; so the scan's fetch workers, its
advisories' request and its failures' descriptions need no ``requests`` (46-80 ms of imports,
``depaudit.transport``). An exception of ``requests`` itself is read through its causes.
"""

from __future__ import annotations

from depaudit.errors import TLS_ERROR
from depaudit.run_budget import BodyTooLarge, BudgetSpent

#: the kinds of :class:`TransportError`, by the exception requests raises for each
COULD_NOT_CONNECT = "could not connect"  # ConnectionError
TIMED_OUT = "timed out"  # ConnectTimeout, ReadTimeout
BROKEN_BODY = "connection broken in the middle of the body"  # ChunkedEncodingError
UNDECODABLE = "body could not be decompressed"  # ContentDecodingError
TOO_MANY_REDIRECTS = "TooManyRedirects"  # (describe_failure names what it does not know)


class TransportError(Exception):
    """A request libcurl could not complete (:class:`~depaudit.http_bulk.BulkFetcher`), as
    the kind of failure requests would have raised for it, without ``requests``: its
    ``description`` is what :func:`describe_failure` says of that kind (never libcurl's
    message, which can carry the URL), and ``connection`` is True where requests' exception
    is a ``ConnectionError`` or a ``Timeout`` (a failure to connect, TLS, a timeout: the
    registry counts those to stop asking a host out of reach)."""

    def __init__(self, description: str, *, connection: bool) -> None:
        super().__init__(description)
        self.description = description
        self.connection = connection


def describe_failure(exc: BaseException) -> str:
    """A transport failure in a few words for a warning. Never the exception's text: it can
    carry a URL with credentials in it. A :class:`TransportError` says its own; an exception
    of ``requests`` (which is then imported already) is read through its causes."""
    if isinstance(exc, TransportError):
        return exc.description
    import requests
    from urllib3 import exceptions as urllib3_exceptions

    # requests wraps urllib3's errors: ConnectionError(MaxRetryError(reason=ReadTimeoutError))
    reason: object = exc
    for _ in range(5):
        if isinstance(reason, urllib3_exceptions.NewConnectionError):  # a TimeoutError subclass
            return COULD_NOT_CONNECT
        if isinstance(reason, requests.Timeout | TimeoutError | urllib3_exceptions.TimeoutError):
            return TIMED_OUT
        if not isinstance(reason, BaseException):
            break
        reason = getattr(reason, "reason", None) or (reason.args[0] if reason.args else None)
    if isinstance(exc, requests.exceptions.ChunkedEncodingError):
        return BROKEN_BODY
    if isinstance(exc, requests.exceptions.ContentDecodingError):
        return UNDECODABLE
    if isinstance(exc, requests.exceptions.SSLError):
        return TLS_ERROR
    if isinstance(exc, requests.ConnectionError):
        return COULD_NOT_CONNECT
    return type(exc).__name__


def failure_of(exc: BaseException) -> tuple[str, str, bool]:
    """A request's exception as the scan records it: ``("budget", text, False)`` for a run
    budget spent, else ``("error", text, connection)``: a body over the cap in its words
    without the URL (which may hold a credential), ``connection`` True for a connection
    failure or a timeout (which the scan counts to stop asking an unreachable registry)."""
    if isinstance(exc, BudgetSpent):
        return "budget", str(exc), False
    if isinstance(exc, BodyTooLarge):
        return "error", str(exc).rsplit(": ", 1)[-1].split(" (")[0], False
    if isinstance(exc, TransportError):  # (libcurl's: no requests imported for it)
        return "error", exc.description, exc.connection
    import requests  # (imported already: the exception is one of its)

    connection = isinstance(exc, requests.ConnectionError | requests.Timeout)
    return "error", describe_failure(exc), connection
