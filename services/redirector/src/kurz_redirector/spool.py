"""The edge's write-ahead spool: click events on local disk while Redis is away.

Events are appended to segment files in one directory, each record framed as
`length (4 bytes) · crc32 (4 bytes) · event`, and every append ends with an fsync: the
recorder answers a visit only after its event is on disk. A segment is sealed at
`segment_bytes` (or when the recorder replays it) and a new one begun; the segments
together never hold more than `max_bytes`: `append` keeps what fits and says how much,
and the recorder counts the rest as dropped (alerted).

Segments are owned by one process through an exclusive `flock` held on each as long as
the process lives. A process that dies (SIGKILL included) releases its locks, so the
next one to start adopts its segments and replays them: `adopt` takes every segment no
live process holds. A record torn by a crash mid-append was never fsynced, so never
answered: reading stops at the first record whose length or checksum does not hold.

Methods do blocking file I/O: the recorder calls them in a thread, one at a time.
"""

from __future__ import annotations

import fcntl
import os
import struct
import time
import zlib
from pathlib import Path

_HEADER = struct.Struct(">II")
_SUFFIX = ".wal"


class _Segment:
    def __init__(self, path: Path, fd: int, size: int, events: int) -> None:
        self.path = path
        self.fd = fd
        self.size = size
        self.events = events


class Spool:
    def __init__(self, directory: Path, max_bytes: int, segment_bytes: int | None = None) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        self.directory = directory
        self.max_bytes = max_bytes
        self.segment_bytes = segment_bytes or max(max_bytes // 8, 1 << 16)
        self._sealed: list[_Segment] = []  # oldest first
        self._active: _Segment | None = None
        self._seq = 0

    @property
    def size(self) -> int:
        return sum(s.size for s in self._segments())

    @property
    def events(self) -> int:
        """Events on disk, not yet replayed."""
        return sum(s.events for s in self._segments())

    @property
    def empty(self) -> bool:
        return not self._sealed and (self._active is None or self._active.events == 0)

    def sealed(self) -> list[Path]:
        return [s.path for s in self._sealed]

    def _segments(self) -> list[_Segment]:
        return self._sealed + ([self._active] if self._active is not None else [])

    def adopt(self) -> int:
        """Take the segments no live process holds (left by one that died or stopped);
        returns the events they hold."""
        owned = {s.path for s in self._segments()}
        found = 0
        for path in sorted(self.directory.glob("*" + _SUFFIX)):
            if path in owned:
                continue
            try:
                fd = os.open(path, os.O_RDWR)
            except FileNotFoundError:
                continue  # replayed and removed meanwhile by its owner
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                os.close(fd)  # a live process's
                continue
            if not path.exists():  # removed between our open and our lock
                os.close(fd)
                continue
            events = len(_records(path.read_bytes()))
            self._sealed.append(_Segment(path, fd, path.stat().st_size, events))
            found += events
        self._sealed.sort(key=lambda s: s.path.name)
        return found

    def append(self, events: list[bytes]) -> int:
        """Append and fsync as many of `events` as the bound allows; returns how many."""
        room = self.max_bytes - self.size
        frames: list[bytes] = []
        for event in events:
            frame = _HEADER.pack(len(event), zlib.crc32(event)) + event
            if len(frame) > room:
                break
            room -= len(frame)
            frames.append(frame)
        written = 0
        while written < len(frames):
            segment = self._writable()
            start = written
            size = 0
            while written < len(frames) and (
                written == start or segment.size + size + len(frames[written]) <= self.segment_bytes
            ):
                size += len(frames[written])
                written += 1
            try:
                os.write(segment.fd, b"".join(frames[start:written]))
                os.fsync(segment.fd)
            except OSError:
                # A full disk may have taken part of the write: cut it off, so records
                # appended later are not read behind a torn one. Kept before: on disk.
                os.ftruncate(segment.fd, segment.size)
                raise
            segment.size += size
            segment.events += written - start
        return len(frames)

    def _writable(self) -> _Segment:
        if self._active is not None and self._active.size >= self.segment_bytes:
            self.seal()
        if self._active is None:
            self._seq += 1
            name = f"{time.time_ns():020d}-{os.getpid()}-{self._seq:06d}"
            temporary = self.directory / (name + ".new")
            fd = os.open(temporary, os.O_RDWR | os.O_CREAT | os.O_APPEND, 0o600)
            # Locked before it bears a name another process would adopt.
            fcntl.flock(fd, fcntl.LOCK_EX)
            path = temporary.with_suffix(_SUFFIX)
            os.rename(temporary, path)
            _sync_directory(self.directory)
            self._active = _Segment(path, fd, 0, 0)
        return self._active

    def seal(self) -> None:
        """The active segment, if it holds anything, becomes replayable."""
        if self._active is not None and self._active.events:
            self._sealed.append(self._active)
            self._active = None

    def read(self, path: Path) -> list[bytes]:
        return _records(path.read_bytes())

    def remove(self, path: Path) -> None:
        """A replayed segment: its name first (no one adopts it), then its lock."""
        segment = next(s for s in self._sealed if s.path == path)
        path.unlink(missing_ok=True)
        _sync_directory(self.directory)
        os.close(segment.fd)
        self._sealed.remove(segment)

    def close(self) -> None:
        """Release every lock: what is left stays for the next process to adopt."""
        for segment in self._segments():
            os.close(segment.fd)
        if self._active is not None and self._active.events == 0:
            self._active.path.unlink(missing_ok=True)
        self._sealed, self._active = [], None


def _records(data: bytes) -> list[bytes]:
    events = []
    offset = 0
    while offset + _HEADER.size <= len(data):
        length, checksum = _HEADER.unpack_from(data, offset)
        start = offset + _HEADER.size
        event = data[start : start + length]
        if len(event) < length or zlib.crc32(event) != checksum:
            break  # torn by a crash mid-append: never fsynced, never answered
        events.append(event)
        offset = start + length
    return events


def _sync_directory(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
