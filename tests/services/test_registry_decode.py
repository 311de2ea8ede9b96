"""Packuments decoded in a worker process give exactly what a thread gives, and a worker that
dies costs no answer."""

from __future__ import annotations

import json
import pickle

import pytest

from depaudit.services.registry_decode import Decoder, decode


def _packument(name: str, versions: int = 3, **extra: object) -> bytes:
    doc = {
        "name": name,
        "dist-tags": {"latest": f"1.{versions - 1}.0"},
        "versions": {
            f"1.{i}.0": {"name": name, "version": f"1.{i}.0", "repository": "o/r"}
            for i in range(versions)
        },
        "time": {f"1.{i}.0": f"2024-0{1 + i % 9}-01T00:00:00.000Z" for i in range(versions)},
        **extra,
    }
    return json.dumps(doc).encode()


BODIES = [
    _packument("plain"),
    _packument("many", 300),
    _packument("deprecated", versions=2).replace(
        b'"version": "1.0.0"', b'"version": "1.0.0", "deprecated": "use x"'
    ),
    # a lone surrogate: not a packument either way
    b'{"name": "odd", "versions": {"1.0.0": {"deprecated": "bad \\ud800 text"}}, '
    b'"time": {"1.0.0": "2024-01-01T00:00:00.000Z"}, "dist-tags": {"latest": "1.0.0"}}',
    b'{"name": "tomb", "time": {"unpublished": {"time": "2024-01-01T00:00:00.000Z"}}}',
]


def _answers(decoder: Decoder, bodies: list[bytes]) -> list[object]:
    futures = [decoder.submit(body) for body in bodies]
    out: list[object] = []
    for future in futures:
        try:
            out.append(future.result(timeout=60)[0])
        except ValueError as exc:
            out.append(("ValueError", isinstance(exc, ValueError)))
    return out


def test_the_worker_answers_exactly_as_a_thread_does() -> None:
    bodies = [*BODIES, b"<html>not json</html>", b'["a", "list"]', b""]
    with Decoder(use_process=True) as worker:
        assert worker.in_process
        in_process = _answers(worker, bodies)
    with Decoder(use_process=False) as thread:
        assert not thread.in_process
        in_thread = _answers(thread, bodies)
    assert in_process == in_thread
    assert in_process[0] == decode(BODIES[0])
    assert in_process[-3:] == [("ValueError", True)] * 3
    assert in_process[2] != in_process[0] and "use x" in json.dumps(in_process[2])


def test_a_worker_that_dies_costs_no_answer() -> None:
    bodies = [_packument(f"p{i}", 200) for i in range(40)]
    with Decoder(use_process=True) as decoder:
        assert decoder.in_process
        process = decoder._worker
        assert process is not None
        futures = [decoder.submit(body) for body in bodies[:20]]
        process.kill()
        futures += [decoder.submit(body) for body in bodies[20:]]
        answers = [f.result(timeout=60)[0] for f in futures]
        assert not decoder.in_process  # the rest went to a thread
    assert answers == [decode(body) for body in bodies]


def test_no_worker_when_the_interpreter_cannot_be_started(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import sys

    monkeypatch.setattr(sys, "executable", "/nonexistent/python")
    with Decoder(use_process=True) as decoder:
        assert not decoder.in_process
        assert decoder.submit(BODIES[0]).result(timeout=60)[0] == decode(BODIES[0])


@pytest.mark.parametrize(
    "frame",
    [
        b"\x80\x81\x82\x83",  # not a pickle (the frame that hung a scan once, under py-spy)
        pickle.dumps(["not", "an", "answer"]),
        pickle.dumps({"unexpected": 1}),
    ],
    ids=["not-a-pickle", "a-list", "unknown-keys"],
)
def test_a_broken_answer_from_the_worker_costs_no_answer_and_never_hangs(
    frame: bytes, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A worker whose answer is not one (a damaged frame) and which then reads on without
    answering: it is killed, its bodies are decoded in a thread, and closing does not wait on
    it. Before, the reader thread died on the frame and the scan waited forever."""
    import sys
    import threading

    from depaudit.services import registry_decode

    script = (
        "import struct, sys\n"
        "head = sys.stdin.buffer.read(8)\n"
        "sys.stdin.buffer.read(struct.unpack('<Q', head)[0])\n"
        f"frame = {frame!r}\n"
        "sys.stdout.buffer.write(struct.pack('<Q', len(frame)) + frame)\n"
        "sys.stdout.buffer.flush()\n"
        "while sys.stdin.buffer.read(65536):\n"
        "    pass\n"
    )
    monkeypatch.setattr(registry_decode, "worker_argv", lambda: [sys.executable, "-c", script])
    bodies = [_packument(f"q{i}", 50) for i in range(30)]
    answers: list[object] = []

    def run() -> None:
        with Decoder(use_process=True) as decoder:
            assert decoder.started_process
            futures = [decoder.submit(body) for body in bodies]
            answers.extend(f.result(timeout=30)[0] for f in futures)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(60)
    assert not thread.is_alive(), "the decoder hung on a broken answer"
    assert answers == [decode(body) for body in bodies]


def test_gzip_bodies_inflate_under_their_cap_in_the_worker_as_in_a_thread() -> None:
    """The registry's bodies come as sent (gzip): inflated where they are decoded, never past
    the cap (a bomb stops there), and refused when not in the encoding they say, or in one
    not asked for; the worker and a thread agree on every case."""
    import gzip
    import zlib

    from depaudit.services.registry_decode import TooLarge, Undecodable

    bomb = gzip.compress(b'{"name": "bomb", "readme": "' + b"0" * 5_000_000 + b'"}', 9)
    cases = [
        (gzip.compress(BODIES[1]), "gzip", 10_000_000),
        (zlib.compress(BODIES[0]), "deflate", 10_000_000),
        (BODIES[0], "identity", 10_000_000),
        (bomb, "gzip", 1_000_000),  # 5 MB inflated, 1 MB allowed
        (gzip.compress(BODIES[0])[:-12], "GZIP", 10_000_000),  # cut short
        (b"not gzip at all", "gzip", 10_000_000),
        (gzip.compress(BODIES[0]), "br", 10_000_000),  # not asked for
    ]

    def outcomes(decoder: Decoder) -> list[object]:
        out: list[object] = []
        for future in [decoder.submit(*case) for case in cases]:
            try:
                out.append(future.result(timeout=60))
            except (TooLarge, Undecodable) as exc:
                out.append(type(exc).__name__)
        return out

    with Decoder(use_process=True) as worker:
        assert worker.in_process
        in_process = outcomes(worker)
    with Decoder(use_process=False) as thread:
        in_thread = outcomes(thread)
    assert in_process == in_thread
    assert in_process[:3] == [
        (decode(BODIES[1]), len(BODIES[1])),
        (decode(BODIES[0]), len(BODIES[0])),
        (decode(BODIES[0]), len(BODIES[0])),
    ]
    assert in_process[3:] == ["TooLarge", "Undecodable", "Undecodable", "Undecodable"]


def test_an_abandoned_decoder_ends_at_once_without_decoding_the_rest() -> None:
    """Ctrl-C (or an error) ends the fetch: leaving the decoder on an exception kills the
    worker instead of waiting for it to decode every body still queued, and nothing is
    decoded in a thread instead."""
    import time

    bodies = [_packument(f"big{i}", 3000) for i in range(60)]  # seconds of decoding
    decoded: list[int] = []
    started = time.monotonic()
    with pytest.raises(KeyboardInterrupt), Decoder(use_process=True) as decoder:
        assert decoder.in_process
        futures = [decoder.submit(body) for body in bodies]
        for i, future in enumerate(futures):
            future.add_done_callback(lambda f, i=i: decoded.append(i))
        futures[0].result(timeout=60)  # the worker is under way
        raise KeyboardInterrupt
    assert time.monotonic() - started < 5
    assert decoder._thread is None  # nothing was handed to a thread
    assert len(decoded) < len(bodies)
    with Decoder(use_process=True) as whole:  # without an exception: every body answered
        answers = [whole.submit(body).result(timeout=120)[0] for body in bodies[:5]]
    assert answers == [decode(body) for body in bodies[:5]]
