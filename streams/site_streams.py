"""Events by site: one Redis stream per site, read together and fairly.

On one stream, a burst from one site (a line replaying a shift it buffered while offline, a
flood from a misbehaving gateway) sits in front of every other site's events: each reader works
through it in order before it sees the next event of a quiet site, and that site's wall screens
lag as long. With a stream per site (``tf:events:<site>``, plus ``tf:events:enterprise`` for
events that belong to no line, such as configurator drafts), every read asks all streams at
once (one XREAD) and takes their entries in turn, so a quiet site's event waits at most for one
read of the busy site's, not for its whole backlog.

Order is kept where it means something, within a site: a unit's events stay in order because a
unit is built on one line of one site. Across sites entries interleave.

An offset here is the position in every stream: ``<site>=<entry id>`` pairs joined by ``,``
(streams not read yet are left out and read from their start). ``durable_id`` differs from the
single stream's, so a history recorded from one layout never resumes on the other's offsets.

Which layout a Redis carries is kept in Redis itself (``tf:events:layout``): the first process
to open it decides, and every later one (workers, the emulator) follows, so two processes can
never write to different layouts of the same Redis unnoticed. :func:`open_redis_events` does that.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any

import redis

from streams.bus import Entry, Gap, Offset, keep_gap
from streams.events import Event
from streams.redis_streams import RedisStreamsBus, block_ms, connect, follow_in_thread

log = logging.getLogger(__name__)
PREFIX = "tf:events"
ENTERPRISE = "enterprise"  # the stream of events that belong to no site
LAYOUT_KEY = "tf:events:layout"
SINGLE, PER_SITE = "single", "per-site"


class LayoutMismatch(RuntimeError):
    """This process was told one stream layout, and the Redis it uses already carries the other."""


class SiteStreamsBus:
    """The Bus protocol over one Redis stream per site."""

    def __init__(
        self,
        url: str,
        sites: Sequence[str],
        site_of: Callable[[Event], str | None],
        max_len: int | None = 1_000_000,
        prefix: str = PREFIX,
    ) -> None:
        self._redis = connect(url)
        self.site_of = site_of
        names = [*sorted(set(sites)), ENTERPRISE]
        self.streams = {
            name: RedisStreamsBus(url, stream=f"{prefix}:{name}", max_len=max_len, client=self._redis) for name in names
        }
        self.durable_id = f"redis:{prefix}:by-site"
        self.gaps: list[Gap] = []  # a reader overtaken by retention on any site's stream, in this bus's offsets
        self._stops: list[threading.Event] = []

    def _stream_of(self, event: Event) -> str:
        site = self.site_of(event)
        return site if site in self.streams else ENTERPRISE

    # --- writing --------------------------------------------------------------------------------
    def publish(self, event: Event) -> Offset:
        return self.publish_many([event])[0]

    def publish_many(self, events: Iterable[Event]) -> list[Offset]:
        """Append each event to its site's stream, in order within each stream."""
        batch = list(events)
        by_stream: dict[str, list[int]] = {}
        for index, event in enumerate(batch):
            by_stream.setdefault(self._stream_of(event), []).append(index)
        offsets: list[Offset] = [""] * len(batch)
        for name, indexes in by_stream.items():
            ids = self.streams[name].publish_many(batch[i] for i in indexes)
            for i, entry_id in zip(indexes, ids):
                offsets[i] = f"{name}={entry_id}"
        return offsets

    def tail(self) -> Offset | None:
        """Return the position after the newest entry of every stream (None: all are empty)."""
        newest = {name: bus.tail() for name, bus in self.streams.items()}
        found = {name: entry_id for name, entry_id in newest.items() if entry_id is not None}
        return format_offset(found) if found else None

    # --- reading --------------------------------------------------------------------------------
    def read(self, after: Offset | None = None, limit: int = 1000, block_s: float = 0.0) -> list[Entry]:
        """Return up to ``limit`` entries after ``after``, taking each stream's in turn."""
        position = parse_offset(after)
        keys: dict[Any, Any] = {bus.stream: position.get(name, "0-0") for name, bus in self.streams.items()}
        answer: Any = self._redis.xread(keys, count=limit, block=block_ms(block_s))
        names = {bus.stream: name for name, bus in self.streams.items()}
        found: dict[str, list[Entry]] = {}
        for stream, items in answer or ():
            name = names[stream.decode() if isinstance(stream, bytes) else stream]
            bus = self.streams[name]
            known = bus.gaps[-1] if bus.gaps else None
            found[name] = bus.accept(position.get(name), items, limit)
            if bus.gaps and bus.gaps[-1] is not known:  # the trim overtook this reader on that stream
                gap = bus.gaps[-1]
                keep_gap(
                    self.gaps, replace(gap, after=after or "", resumed=format_offset(position | {name: gap.resumed}))
                )
        out: list[Entry] = []
        # In turn: the first entry of every stream, then the second of each, … (a quiet site's
        # event is among the first of the batch however much the busy one has waiting).
        for rank in range(max((len(entries) for entries in found.values()), default=0)):
            for name in sorted(found):
                entries = found[name]
                if rank < len(entries) and len(out) < limit:
                    entry_id, event = entries[rank]
                    position[name] = entry_id
                    out.append((format_offset(position), event))
        return out

    def subscribe(self, callback: Callable[[Offset, Event], None]) -> Callable[[], None]:
        """Call ``callback`` from a background thread for every event published from now on."""
        stop = threading.Event()
        self._stops.append(stop)
        start = self.tail()  # streams still empty are read from their start: all of it is new
        follow_in_thread(self.read, start, callback, stop, "redis-site-subscriber")
        return stop.set

    def dead_letter(self, reason: str, detail: str, raw: str | bytes) -> None:
        self.streams[ENTERPRISE].dead_letter(reason, detail, raw)

    def scan_dead_letters(self, before: str | None = None) -> Iterator[tuple[str, datetime, str, str, str]]:
        """The dead letters of every site's stream: they share one dead-letter stream."""
        return self.streams[ENTERPRISE].scan_dead_letters(before)

    def find_dead_letter(self, letter_id: str) -> tuple[str, datetime, str, str, str] | None:
        return self.streams[ENTERPRISE].find_dead_letter(letter_id)

    def close(self) -> None:
        for stop in self._stops:
            stop.set()
        self._redis.close()


def format_offset(position: dict[str, str]) -> Offset:
    """``{"a": "1-0", "b": "2-0"}`` → ``"a=1-0,b=2-0"`` (streams in name order)."""
    return ",".join(f"{name}={entry_id}" for name, entry_id in sorted(position.items()) if entry_id != "0-0")


def parse_offset(offset: Offset | None) -> dict[str, str]:
    """The inverse of :func:`format_offset`; None or "" is the start of every stream."""
    if not offset:
        return {}
    position = {}
    for part in offset.split(","):
        name, sep, entry_id = part.partition("=")
        if not sep or not name or not entry_id:
            raise ValueError(f"not an offset of the per-site streams: {offset!r}")
        position[name] = entry_id
    return position


def open_redis_events(
    url: str,
    sites: Sequence[str],
    site_of: Callable[[Event], str | None],
    per_site: bool | None,
    wait_s: float = 30.0,
) -> RedisStreamsBus | SiteStreamsBus:
    """Open the event bus of the Redis at ``url`` in the layout it carries.

    ``per_site`` None follows what the Redis carries (one stream when nobody has chosen yet);
    True or False chooses it on a Redis that carries no events yet, and is refused, with
    :class:`LayoutMismatch`, on one that carries the other layout. A Redis that cannot be
    reached is waited for up to ``wait_s``, then refused the same way, with the reason.
    """
    wanted = None if per_site is None else (PER_SITE if per_site else SINGLE)
    client = connect(url)
    deadline = time.monotonic() + wait_s
    try:
        while True:
            try:
                layout = _layout(client, wanted)
                break
            except redis.RedisError as exc:  # Redis starting beside us (a service manager, a compose file)
                if time.monotonic() >= deadline:
                    raise LayoutMismatch(f"cannot reach Redis at {url} to learn its stream layout: {exc}") from None
                log.warning("waiting for Redis at %s (%s)", url, exc)
                time.sleep(1.0)
    finally:
        client.close()
    if layout == PER_SITE:
        return SiteStreamsBus(url, sites, site_of)
    return RedisStreamsBus(url)


def _layout(client: redis.Redis, wanted: str | None) -> str:
    """Return the layout the Redis carries, choosing ``wanted`` (or one stream) if it carries none yet."""
    stored = client.get(LAYOUT_KEY)
    layout = stored.decode() if isinstance(stored, bytes) else None
    if layout is None:
        if wanted == PER_SITE and client.exists(PREFIX):
            raise LayoutMismatch(
                f"this Redis already carries events on one stream ({PREFIX}); per-site streams "
                "need a Redis (or a database number) of their own"
            )
        client.set(LAYOUT_KEY, wanted or SINGLE, nx=True)
        chosen = client.get(LAYOUT_KEY)  # another process may have chosen first
        layout = chosen.decode() if isinstance(chosen, bytes) else wanted or SINGLE
    if wanted is not None and wanted != layout:
        raise LayoutMismatch(
            f"this Redis carries events {'by site' if layout == PER_SITE else 'on one stream'}; "
            f"start {'with' if layout == PER_SITE else 'without'} --stream-per-site, or use another Redis"
        )
    return layout
