"""The edge's write-ahead spool on a real directory: framing, bound, rotation, torn
records and which process owns which segment."""

from __future__ import annotations

import multiprocessing
import os
from pathlib import Path

from kurz_redirector.spool import Spool


def test_append_read_remove_in_order_across_rotations(tmp_path: Path) -> None:
    spool = Spool(tmp_path, max_bytes=1 << 20, segment_bytes=100)
    events = [f"event-{i}".encode() * 3 for i in range(30)]
    for start in range(0, 30, 3):
        assert spool.append(events[start : start + 3]) == 3
    assert spool.events == 30
    spool.seal()
    paths = spool.sealed()
    assert len(paths) > 3  # rotated at about 100 bytes each
    assert [e for p in paths for e in spool.read(p)] == events
    for path in paths:
        spool.remove(path)
    assert spool.empty and list(tmp_path.glob("*.wal")) == []


def test_the_bound_keeps_what_fits_and_says_how_much(tmp_path: Path) -> None:
    spool = Spool(tmp_path, max_bytes=110)
    assert spool.append([b"x" * 40, b"y" * 40, b"z" * 40]) == 2  # 48 bytes each on disk
    assert spool.append([b"w"]) == 1
    assert spool.append([b"v"]) == 0
    assert spool.size == 105


def test_a_torn_tail_ends_the_segment_and_loses_nothing_before_it(tmp_path: Path) -> None:
    spool = Spool(tmp_path, max_bytes=1 << 20)
    spool.append([b"kept-1", b"kept-2"])
    spool.seal()
    [path] = spool.sealed()
    with path.open("ab") as file:  # a crash in the middle of the next append
        file.write(b"\x00\x00\x00\x20\x12\x34")
    assert spool.read(path) == [b"kept-1", b"kept-2"]
    spool.close()


def _hold_and_wait(directory: str, ready: multiprocessing.synchronize.Event,
                   done: multiprocessing.synchronize.Event) -> None:  # fmt: skip
    spool = Spool(Path(directory), max_bytes=1 << 20)
    spool.append([b"live"])
    ready.set()
    done.wait(20)


def test_a_live_process_keeps_its_segments_a_dead_ones_are_adopted(tmp_path: Path) -> None:
    left = Spool(tmp_path, max_bytes=1 << 20)
    left.append([b"orphan-1", b"orphan-2"])
    left.close()  # as a process that exited: its locks are gone, its files stay
    context = multiprocessing.get_context("fork")
    ready, done = context.Event(), context.Event()
    live = context.Process(target=_hold_and_wait, args=(str(tmp_path), ready, done))
    live.start()
    try:
        assert ready.wait(20)
        spool = Spool(tmp_path, max_bytes=1 << 20)
        assert spool.adopt() == 2  # the orphan's two events, not the live one's
        assert [e for p in spool.sealed() for e in spool.read(p)] == [b"orphan-1", b"orphan-2"]
        assert spool.adopt() == 0  # adopted once
    finally:
        done.set()
        live.join(20)
    assert live.exitcode == 0
    assert spool.adopt() == 1  # its owner is gone now
    spool.close()
    assert os.listdir(tmp_path)
