"""The connections a session keeps between requests made one after another
(``http_bulk.fetch_one``: GitHub's calls, the advisories' POST): made by
:func:`kept_connections` on first use, ended by :func:`close_kept_connections` (the
sessions' ``close``). A module of its own, without libcurl's import until one is made, so
that ``transport`` (the sessions) and ``http_bulk`` (the requests) both use it without
importing each other."""

from __future__ import annotations

import contextlib
import os
import threading
from typing import Any

#: where a session keeps :func:`kept_connections`' share: (the process id, the share, the
#: lock that one request at a time holds), or None where it cannot keep one
_KEPT = "_kept_connections"
_making_kept = threading.Lock()


def _after_fork() -> None:
    """In a forked child, a lock of its own: one a parent's thread held at the fork would
    never be released there."""
    global _making_kept
    _making_kept = threading.Lock()


os.register_at_fork(after_in_child=_after_fork)


def kept_connections(session: object) -> tuple[Any, threading.Lock] | None:
    """The connections ``session`` keeps between the requests of ``http_bulk.fetch_one``
    (GitHub's calls one after another, the advisories' POST): a ``pycurl.CurlShare`` of
    connections, TLS sessions and DNS answers, made in this process on first use, with the
    lock a request holds while it uses them (libcurl does not share connections between
    transfers of two threads at once). Each request on a new connection costs its TCP and TLS
    handshakes (two round trips, and reading the CA bundle: ~10-13 ms of CPU here) and a DNS
    lookup; kept, only the first does. Never one made in another process: a forked worker's
    copy of the session would share its parent's sockets. None where the session takes no
    attribute or libcurl shares no connections (before 7.57): each request then has a
    connection of its own."""
    pid = os.getpid()
    with _making_kept:  # (two threads' first requests at once make one share)
        kept = getattr(session, _KEPT, None)
        if kept is None or kept[0] != pid:
            import pycurl

            try:
                share = pycurl.CurlShare()
                for data in (
                    pycurl.LOCK_DATA_CONNECT,
                    pycurl.LOCK_DATA_SSL_SESSION,
                    pycurl.LOCK_DATA_DNS,
                ):
                    share.setopt(pycurl.SH_SHARE, data)
                kept = (pid, share, threading.Lock())
                setattr(session, _KEPT, kept)
            except (AttributeError, pycurl.error):
                return None
    return kept[1], kept[2]


def close_kept_connections(session: object) -> None:
    """End the connections ``http_bulk.fetch_one`` kept for ``session`` in this process
    (:func:`kept_connections`); a later request makes new ones. Where another
    thread's request holds them, they end once it has (nothing is closed under it); a copy
    inherited from another process is left to that process."""
    kept = getattr(session, _KEPT, None)
    if kept is None or kept[0] != os.getpid():
        return
    with contextlib.suppress(AttributeError):
        delattr(session, _KEPT)
    _, share, lock = kept
    if lock.acquire(blocking=False):
        try:
            share.close()
        finally:
            lock.release()
