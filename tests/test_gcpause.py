"""The collector pauses and freezes only inside the blocks, and comes back as it was."""

from __future__ import annotations

import gc

from depaudit import gcpause


def test_paused_turns_collection_off_and_restores_it() -> None:
    assert gc.isenabled()
    with gcpause.paused():
        assert not gc.isenabled()
    assert gc.isenabled()
    gc.disable()
    try:
        with gcpause.paused():
            pass
        assert not gc.isenabled()  # a caller that had it off keeps it off
    finally:
        gc.enable()


def test_frozen_moves_what_exists_out_and_back() -> None:
    before = gc.get_freeze_count()
    with gcpause.frozen():
        assert gc.get_freeze_count() > before
    assert gc.get_freeze_count() == 0


def test_paused_keep_out_leaves_what_the_block_made_out_of_collections() -> None:
    """For a block the process ends after: on the way out, everything alive is frozen first,
    so turning the collector back on does not have it scan the block's objects again."""
    assert gc.get_freeze_count() == 0
    try:
        with gcpause.paused(keep_out=True):
            made = [[i] for i in range(5000)]
            assert not gc.isenabled()
        assert gc.isenabled()
        assert gc.get_freeze_count() >= len(made)
    finally:
        gc.unfreeze()
    with gcpause.paused():
        pass
    assert gc.get_freeze_count() == 0  # (without keep_out, nothing is frozen)
