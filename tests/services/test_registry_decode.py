"""Packuments decoded in a worker process give exactly what a thread gives, and a worker that
dies costs no answer."""

from __future__ import annotations

import json
import pickle
import sys
import threading
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from depaudit.services.decode_worker import decode
from depaudit.services.registry_decode import Decoder, Decoders, decode_workers


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


# -- the inflating module: ISA-L's where installed, the standard zlib's otherwise ------------


def _inflated(body: bytes, limit: int) -> object:
    from depaudit.services.decode_worker import ZLIB, TooLarge, Undecodable, inflate

    try:
        return inflate(body, ZLIB, limit)
    except (TooLarge, Undecodable) as exc:
        return type(exc).__name__


def test_isal_inflates_the_registry_bodies() -> None:
    from isal import isal_zlib

    from depaudit.services import decode_worker

    assert decode_worker.INFLATING is isal_zlib  # a dependency: installed with depaudit


@settings(max_examples=150, deadline=None)
@given(
    data=st.binary(max_size=3000) | st.sampled_from(BODIES),
    level=st.integers(0, 9),
    wrapper=st.sampled_from(["gzip", "zlib"]),
    cut=st.integers(0, 40),
    limit=st.integers(0, 4000),
)
def test_isal_and_zlib_inflate_alike(
    data: bytes, level: int, wrapper: str, cut: int, limit: int
) -> None:
    """Every body, cut short or not, under every cap: the same bytes or the same refusal
    from ISA-L's module and the standard one (the fallback where ISA-L has no wheel)."""
    import gzip
    import zlib

    from isal import isal_zlib

    from depaudit.services import decode_worker

    body = gzip.compress(data, level) if wrapper == "gzip" else zlib.compress(data, level)
    body = body[: len(body) - cut] if cut < len(body) else body
    results = []
    for module in (isal_zlib, zlib):
        saved = decode_worker.INFLATING
        decode_worker.INFLATING = module
        try:
            results.append(_inflated(body, limit))
        finally:
            decode_worker.INFLATING = saved
    assert results[0] == results[1]
    if cut == 0 and len(data) <= limit:
        assert results[0] == data


# -- two workers side by side (Decoders) ------------------------------------------------------


def test_a_second_worker_takes_the_bodies_waiting_behind_a_big_one() -> None:
    """With every worker behind (here: one body waiting), a second starts; each body goes to
    the one with the fewest bytes waiting, so small ones do not wait behind a big one, and
    the answers are a single decoder's."""
    big = _packument("big", 150_000)  # long to decode: about a second
    bodies = [*BODIES, b"<html>not json</html>"]
    with Decoder(use_process=False) as thread:
        expected = _answers(thread, bodies)
    with Decoders(2, behind=1) as pool:
        slow = pool.submit(big)
        assert pool.workers == 1
        assert _answers(pool, bodies) == expected  # type: ignore[arg-type]
        assert pool.workers == 2 and pool.in_process
        assert not slow.done()  # the big one went to one worker, the small ones to the other
        assert slow.result(timeout=120)[0] == decode(big)
    with Decoders(1, behind=1) as single:  # one worker answers in order: the small ones wait
        slow = single.submit(big)
        single.submit(BODIES[0]).result(timeout=120)
        assert slow.done() and single.workers == 1


def test_a_worker_that_keeps_up_is_the_only_one() -> None:
    """Bodies that arrive slower than one worker decodes them (a registry far away): no
    second process."""
    with Decoders(2, behind=2) as pool:
        for body in BODIES[:3] * 3:
            pool.submit(body).result(timeout=60)
        assert pool.workers == 1


def test_no_process_means_one_thread_however_many_were_asked() -> None:
    with Decoders(2, use_process=False) as pool:
        assert pool.workers == 0 and not pool.in_process
        assert pool.submit(BODIES[0]).result(timeout=60) == (decode(BODIES[0]), len(BODIES[0]))


@pytest.mark.parametrize(("cores", "workers"), [({0}, 1), ({0, 1}, 2), ({0, 1, 2, 3}, 2)])
def test_two_decoding_workers_where_the_scan_has_two_cores(
    monkeypatch: pytest.MonkeyPatch, cores: set[int], workers: int
) -> None:
    import os

    monkeypatch.setattr(os, "sched_getaffinity", lambda _: cores, raising=False)
    assert decode_workers() == workers


def _pipe_size(descriptor: int) -> int:
    import fcntl

    return int(fcntl.fcntl(descriptor, fcntl.F_GETPIPE_SZ))


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="Linux's F_SETPIPE_SZ")
def test_the_bodies_cross_a_widened_pipe_to_the_worker_and_a_refusal_costs_nothing(
    tmp_path: Path,
) -> None:
    """The worker's input pipe is asked to hold 1 MB (Linux's default is 64 kB), and what
    the system will not widen (not a pipe, or past what it allows) is left as it was."""
    import os

    from depaudit.services import registry_decode

    with Decoder(use_process=True) as decoder:
        assert decoder.started_process
        worker = decoder._worker
        assert worker is not None and worker.stdin is not None
        assert _pipe_size(worker.stdin.fileno()) >= registry_decode.PIPE_BYTES
        assert _answers(decoder, BODIES[:3]) == [decode(body) for body in BODIES[:3]]

    reading, writing = os.pipe()
    try:
        wide = registry_decode.widen_pipe(writing)
        assert wide == _pipe_size(writing) >= registry_decode.PIPE_BYTES
        assert registry_decode.widen_pipe(writing, 4096) == wide  # never narrower
        assert _pipe_size(writing) == wide
        most = int(Path("/proc/sys/fs/pipe-max-size").read_text())
        got = registry_decode.widen_pipe(writing, most * 2)
        if got == 0:  # refused (without CAP_SYS_RESOURCE): left as it was
            assert _pipe_size(writing) == wide
        else:
            assert got == _pipe_size(writing) >= most * 2
    finally:
        os.close(reading)
        os.close(writing)
    plain = tmp_path / "file"
    plain.write_bytes(b"x")
    with plain.open("rb") as handle:
        assert registry_decode.widen_pipe(handle.fileno()) == 0  # not a pipe


def test_a_system_without_pipe_sizes_leaves_the_pipe_alone(monkeypatch: pytest.MonkeyPatch) -> None:
    import fcntl
    import os

    from depaudit.services import registry_decode

    monkeypatch.delattr(fcntl, "F_GETPIPE_SZ", raising=False)
    monkeypatch.delattr(fcntl, "F_SETPIPE_SZ", raising=False)
    reading, writing = os.pipe()
    try:
        assert registry_decode.widen_pipe(writing) == 0
    finally:
        os.close(reading)
        os.close(writing)


def _cut(body: bytes, size: int) -> list[bytes]:
    """``body`` in chunks of ``size`` bytes, with an empty chunk among them."""
    chunks = [body[i : i + size] for i in range(0, len(body), size)]
    return [*chunks[:1], b"", *chunks[1:]]


@pytest.mark.parametrize("use_process", [True, False], ids=["worker", "thread"])
def test_a_body_in_chunks_is_answered_as_the_whole_body(use_process: bool) -> None:
    """The chunks a body came in (the registry's fetch hands them over unjoined) are
    decoded as the body they make, by the worker (written to its pipe as they are) and by a
    thread (joined); so are their sizes in :class:`Decoders`' reckoning."""
    bodies = [*BODIES, _packument("big", 3000), b"<html>not json</html>"]
    with Decoders(2, use_process=use_process, behind=1) as decoders:
        futures = [decoders.submit(_cut(body, size)) for size in (1, 7, 4096) for body in bodies]
        answers = []
        for future in futures:
            try:
                answers.append(future.result(timeout=60)[0])
            except ValueError:
                answers.append(None)
        assert decoders.in_process is use_process
        assert decoders._waiting == [0] * len(decoders._waiting)  # every byte counted back
    assert answers == [_decoded(body) for body in bodies] * 3
    assert answers[3] is None and answers[-1] is None and answers[-2] is not None


def _decoded(body: bytes) -> object:
    try:
        return decode(body)
    except ValueError:
        return None


@settings(max_examples=200, deadline=None)
@given(
    parts=st.lists(st.binary(max_size=3000), max_size=12),
    most=st.integers(min_value=1, max_value=5000),
)
def test_write_all_writes_every_byte_in_order_whatever_a_call_takes(
    parts: list[bytes], most: int
) -> None:
    """``write_all`` over a real pipe, where each ``writev`` takes at most ``most`` bytes
    (a short write, as POSIX allows): every byte arrives, once, in order."""
    import os

    from depaudit.services import registry_decode

    real = os.writev
    calls: list[int] = []

    def short(fd: int, buffers: list[bytes]) -> int:
        assert len(buffers) <= registry_decode.IOV_MAX
        assert len(calls) <= sum(map(len, parts)), "write_all does not move on"
        taken, room = [], most
        for buffer in buffers:
            piece = bytes(buffer[:room])
            taken.append(piece)
            room -= len(piece)
            if not room:
                break
        calls.append(sum(map(len, taken)))
        return real(fd, taken)

    read_end, write_end = os.pipe()
    got = bytearray()
    reader = threading.Thread(target=lambda: got.extend(_drain(read_end)))
    reader.start()
    with open(write_end, "wb") as stream:
        original = registry_decode.os.writev
        registry_decode.os.writev = short  # type: ignore[assignment]
        try:
            registry_decode.write_all(stream, list(parts))
        finally:
            registry_decode.os.writev = original  # type: ignore[assignment]
    reader.join()
    assert bytes(got) == b"".join(parts)
    assert all(0 < n <= most for n in calls[:-1]) or not parts


def _drain(descriptor: int) -> bytes:
    chunks = []
    with open(descriptor, "rb", closefd=True) as stream:
        while chunk := stream.read(65536):
            chunks.append(chunk)
    return b"".join(chunks)


def test_write_all_takes_more_parts_than_one_writev_can(monkeypatch: pytest.MonkeyPatch) -> None:
    """More parts than ``IOV_MAX`` (a 10 MB body comes in ~1,200 chunks): several calls, in
    order; and where there is no ``writev``, one ``write`` each."""
    import os

    from depaudit.services import registry_decode

    parts = [bytes([i % 251]) * (i % 5) for i in range(3000)]
    for without_writev in (False, True):
        if without_writev:
            monkeypatch.delattr(os, "writev")
        read_end, write_end = os.pipe()
        got = bytearray()
        reader = threading.Thread(target=lambda r=read_end, g=got: g.extend(_drain(r)))
        reader.start()
        with open(write_end, "wb") as stream:
            registry_decode.write_all(stream, parts)
        reader.join()
        assert bytes(got) == b"".join(parts)


def test_the_worker_starts_without_what_it_does_not_use() -> None:
    """Start-up cost, paid by each worker on the core the fetch's decoding needs: its module
    imports neither orjson (~12 ms, only for a body msgspec's decoder refuses) nor the HTTP
    stack, the models or PyYAML, nor the threads, futures and subprocesses of the side that
    feeds it (registry_decode.py), nor the dataclass machinery (metrics' lines are tuples)."""
    from conftest import modules_loaded
    from depaudit.services import registry_decode

    assert registry_decode.worker_argv()[1:] == ["-m", "depaudit.services.decode_worker"]
    heavy = ("orjson", "requests", "urllib3", "depaudit.models", "yaml")
    feeding = ("subprocess", "threading", "concurrent.futures", "queue", "dataclasses")
    found = modules_loaded("import depaudit.services.decode_worker", heavy + feeding)
    assert found == []
    # (and a body msgspec's decoder refuses still decodes, through orjson, imported then)
    from depaudit.services import metrics

    odd = b'{"name": "o", "versions": {"1.0.0": [], "1.1.0": {}}, "time": {}, "dist-tags": {}}'
    assert decode(odd) == metrics.pack(metrics.extract(json.loads(odd)))
