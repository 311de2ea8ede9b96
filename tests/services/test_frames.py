"""The workers' frames (services/frames.py): whatever pieces the pipe hands the bytes over in,
the frames read are the frames written, in order, and a frame cut short waits for its rest."""

from __future__ import annotations

import io

from hypothesis import given
from hypothesis import strategies as st

from depaudit.services.frames import load, payloads_in, read_frame, write_frame

values = st.recursive(
    st.none() | st.integers() | st.text() | st.binary(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=5), inner),
    max_leaves=12,
)


@given(st.lists(values, max_size=8), st.lists(st.integers(1, 64), max_size=30))
def test_frames_come_back_whole_and_in_order_whatever_the_pieces(
    sent: list[object], cuts: list[int]
) -> None:
    stream = io.BytesIO()
    for value in sent:
        write_frame(stream, value)
    data = stream.getvalue()
    buffer, got, at = bytearray(), [], 0
    for size in [*cuts, len(data)]:  # (the last piece: all that is left)
        buffer += data[at : at + size]
        at += size
        got.extend(load(payload) for payload in payloads_in(buffer))
    assert got == sent and not buffer
    stream.seek(0)
    assert [read_frame(stream) for _ in sent] == sent
    assert read_frame(stream) is None  # (the end)


def test_a_frame_cut_short_or_damaged_is_none() -> None:
    stream = io.BytesIO()
    write_frame(stream, {"ok": 1})
    whole = stream.getvalue()
    assert read_frame(io.BytesIO(whole[:-1])) is None
    assert list(payloads_in(bytearray(whole[:-1]))) == []
    assert load(b"not a pickle") is None
