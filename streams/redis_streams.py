"""Redis Streams bus: when the factory outgrows one process or one machine.

Every event is one stream entry ``{"e": <CloudEvent JSON>}`` appended with ``XADD … MAXLEN ~``
(approximate trimming costs almost nothing; exact trimming is ~2.5x slower). Offsets are Redis
entry ids. Blocking reads stay well under the client's socket timeout (redis-py 8 defaults to
5 s with retries, which turns a long ``BLOCK`` into a TimeoutError). An entry that does not
decode is copied to the dead-letter stream with its reason and skipped, never dropped silently.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, datetime
from typing import Any

import redis

from streams.bus import Entry, Gap, Offset, keep_gap
from streams.codec import DecodeError, from_json, to_json
from streams.events import Event

log = logging.getLogger(__name__)
MAX_BLOCK_S = 1.0  # per blocking call; longer waits loop
BATCH = 500  # events per server-side batch
# One command per batch: the XADDs run inside Redis, still one stream entry per event. A
# client-side pipeline spends ~30 us per command packing and parsing; this costs ~5 us an event.
_XADD_BATCH = """
local ids = {}
for i = 2, #ARGV do
  if ARGV[1] == '0' then
    ids[i - 1] = redis.call('XADD', KEYS[1], '*', 'e', ARGV[i])
  else
    ids[i - 1] = redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[1], '*', 'e', ARGV[i])
  end
end
return table.concat(ids, ',')
"""


DECODED_KEPT = 4096  # decoded events kept for a second reader: two seconds at 2,000 events/s
_ENTRY_ID = re.compile(r"\d{1,15}-\d{1,18}")
_UNDECODABLE = object()  # an entry that did not decode (already dead-lettered)


class RedisStreamsBus:
    """The Bus protocol over one Redis stream."""

    def __init__(
        self,
        url: str,
        stream: str = "tf:events",
        dead_letters: str = "tf:dead-letters",
        max_len: int | None = 1_000_000,
        client: redis.Redis | None = None,
    ) -> None:
        self.stream = stream
        self.dead_letters = dead_letters
        self.max_len = max_len
        self.durable_id = f"redis:{stream}"  # offsets stay valid across restarts of a reader
        self._redis = client or connect(url)
        self._xadd_batch = self._redis.register_script(_XADD_BATCH)
        self._stops: list[threading.Event] = []
        self.gaps: list[Gap] = []
        # The last offset each recent read returned, and whether that read came back full: a
        # reader that goes on from there, not behind, cannot have been overtaken by the trim.
        self._went_on: dict[Offset, bool] = {}
        self._went_on_lock = threading.Lock()  # the pump and the history writer read at once
        # The events of the latest entries read, by entry id: the history writer reads what the
        # pump read a moment before, and an entry never changes, so it is decoded once. Decoding
        # was a tenth of the server's time per reader at 2,000 events/s (bench/tracker_viewers.py).
        self._decoded: dict[str, Event | object] = {}

    def publish(self, event: Event) -> Offset:
        """Append one event and return its entry id."""
        return self.publish_json([to_json(event)])[0]

    def publish_many(self, events: Iterable[Event]) -> list[Offset]:
        """Append events in order, one server-side batch (one round trip) per BATCH events."""
        return self.publish_json([to_json(event) for event in events])

    def publish_json(self, encoded: list[str]) -> list[Offset]:
        """Append already encoded (codec.to_json) events in order; return their entry ids."""
        offsets: list[Offset] = []
        for start in range(0, len(encoded), BATCH):
            ids = self._xadd_batch(keys=[self.stream], args=[self.max_len or 0, *encoded[start : start + BATCH]])
            offsets += ids.decode().split(",")
        return offsets

    def tail(self) -> Offset | None:
        """Return the id of the newest entry (None: the stream is empty)."""
        newest: Any = self._redis.xrevrange(self.stream, count=1)
        return newest[0][0].decode() if newest else None

    def read(self, after: Offset | None = None, limit: int = 1000, block_s: float = 0.0) -> list[Entry]:
        """Return up to ``limit`` entries after ``after`` (None: from the oldest retained)."""
        answer: Any = self._redis.xread(  # redis-py types replies as a union of everything
            {self.stream: after or "0-0"}, count=limit, block=block_ms(block_s)
        )
        return self.accept(after, [item for _stream, found in answer or () for item in found], limit)

    def accept(self, after: Offset | None, items: list, limit: int) -> list[Entry]:
        """Turn the raw entries an XREAD of this stream returned after ``after`` into events.

        Notes a gap if the trim overtook the reader, and dead-letters what does not decode.
        """
        with self._went_on_lock:
            check = bool(items and after and after != "0-0" and self._went_on.get(after, True))
            if items:
                self._went_on[items[-1][0].decode()] = len(items) >= limit
                while len(self._went_on) > 16:  # a few readers: keep the latest of each
                    del self._went_on[next(iter(self._went_on))]
        if check and after:
            self._check_trim(after, items[0][0].decode())
        entries: list[Entry] = []
        decoded = self._decoded
        for raw_id, fields in items:
            entry_id = raw_id.decode()
            event = decoded.get(entry_id)
            if event is None:
                event = decoded[entry_id] = self._decode(entry_id, fields) or _UNDECODABLE
            if isinstance(event, Event):  # not: dead-lettered by the first reader, and only once
                entries.append((entry_id, event))
        if len(decoded) > DECODED_KEPT:
            with self._went_on_lock:  # one reader trims at a time; the others only look up and add
                for entry_id in list(decoded)[: len(decoded) - DECODED_KEPT // 2]:
                    decoded.pop(entry_id, None)
        return entries

    def _check_trim(self, after: Offset, resumed: Offset) -> None:
        """Note a gap when the trim has removed ``after`` itself, the entry the reader read last.

        Trimming removes whole nodes of about 100 entries from the oldest end (``MAXLEN ~``), so
        once the reader's own last entry is gone, so are the ones after it in its node: the next
        one it should have read. (Redis 7.0's ``max-deleted-entry-id`` counts XDEL, not trims.)
        """
        oldest: Any = self._redis.xrange(self.stream, count=1)
        if not oldest or _entry_id(oldest[0][0].decode()) <= _entry_id(after):
            return
        span_s = (_entry_id(resumed)[0] - _entry_id(after)[0]) / 1000
        log.error(
            "stream %s: a reader at %s fell behind the trim; %.0f s of the stream were dropped before it read them",
            self.stream,
            after,
            span_s,
        )
        keep_gap(self.gaps, Gap(after, resumed, None, span_s, datetime.now(UTC)))

    def subscribe(self, callback: Callable[[Offset, Event], None]) -> Callable[[], None]:
        """Call ``callback`` from a background thread for every event published from now on."""
        stop = threading.Event()
        self._stops.append(stop)
        last = (
            self._redis.xinfo_stream(self.stream)["last-generated-id"].decode()
            if self._redis.exists(self.stream)
            else "0-0"
        )

        follow_in_thread(self.read, last, callback, stop, "redis-subscriber")
        return stop.set

    def close(self) -> None:
        """Stop subscribers and close the connection pool."""
        for stop in self._stops:
            stop.set()
        self._redis.close()

    def dead_letter(self, reason: str, detail: str, raw: str | bytes) -> None:
        """Append rejected input to the dead-letter stream and count it by reason."""
        self._redis.xadd(
            self.dead_letters,
            {"reason": reason, "detail": detail, "raw": raw[:65536]},
            maxlen=100_000,
            approximate=True,
        )
        self._redis.hincrby(f"{self.dead_letters}:count", reason, 1)

    def scan_dead_letters(self, before: str | None = None) -> Iterator[tuple[str, datetime, str, str, str]]:
        """Yield ``(id, at, reason, detail, raw)`` newest first, from just before the entry id ``before``.

        Every worker reads the one dead-letter stream, so all of them show the same letters.
        """
        if before is not None and not _ENTRY_ID.fullmatch(before):
            return  # not an id of this stream (Redis would refuse the range)
        top = f"({before}" if before else "+"
        while True:
            found: Any = self._redis.xrevrange(self.dead_letters, max=top, min="-", count=200)
            yield from map(_dead_letter, found)
            if len(found) < 200:
                return
            top = f"({found[-1][0].decode()}"

    def find_dead_letter(self, letter_id: str) -> tuple[str, datetime, str, str, str] | None:
        """Return one dead letter ``(id, at, reason, detail, raw)`` by its entry id, or None."""
        if not _ENTRY_ID.fullmatch(letter_id):
            return None
        found: Any = self._redis.xrange(self.dead_letters, min=letter_id, max=letter_id, count=1)
        return _dead_letter(found[0]) if found else None

    def _decode(self, entry_id: str, fields: dict) -> Event | None:
        raw = fields.get(b"e", b"")
        try:
            return from_json(raw)
        except DecodeError as exc:
            self.dead_letter(exc.reason, f"stream entry {entry_id}: {exc.detail}", raw)
            log.warning("dead-lettered stream entry %s: %s", entry_id, exc)
            return None


def follow_in_thread(
    read: Callable[..., list[Entry]],
    after: Offset | None,
    callback: Callable[[Offset, Event], None],
    stop: threading.Event,
    name: str,
) -> None:
    """Call ``callback`` for every entry ``read`` returns after ``after``, from a thread, until ``stop``."""

    def follow() -> None:
        position = after
        while not stop.is_set():
            try:
                for offset, event in read(position, block_s=MAX_BLOCK_S):
                    position = offset
                    callback(offset, event)
            except redis.RedisError as exc:
                log.warning("subscriber lost Redis (%s); retrying", exc)
                stop.wait(1.0)

    threading.Thread(target=follow, name=name, daemon=True).start()


def connect(url: str) -> redis.Redis:
    """A client whose socket timeout outlasts the longest blocking read."""
    return redis.Redis.from_url(url, socket_timeout=MAX_BLOCK_S + 5, socket_connect_timeout=5)


def block_ms(block_s: float) -> int | None:
    """XREAD's BLOCK for a wait of ``block_s`` (None: do not wait), capped at MAX_BLOCK_S."""
    return int(min(block_s, MAX_BLOCK_S) * 1000) if block_s > 0 else None


def _dead_letter(item: tuple[bytes, dict]) -> tuple[str, datetime, str, str, str]:
    """One entry of the dead-letter stream as ``(id, at, reason, detail, raw)``."""
    raw_id, fields = item
    entry_id = raw_id.decode()
    text = {name: fields.get(name.encode(), b"").decode("utf-8", "replace") for name in ("reason", "detail", "raw")}
    when = datetime.fromtimestamp(_entry_id(entry_id)[0] / 1000, UTC)
    return entry_id, when, text["reason"], text["detail"], text["raw"]


def _entry_id(offset: Offset) -> tuple[int, int]:
    """A Redis entry id "<ms>-<seq>" as a pair that sorts as the stream does."""
    ms, _, seq = offset.partition("-")
    return int(ms), int(seq or 0)


class GroupReader:
    """One consumer of a Redis consumer group: the group shares the stream's entries out.

    Each entry goes to one consumer, which acknowledges it when done. Entries a consumer took but
    did not acknowledge for ``claim_idle_s`` (it died, or it keeps failing on them) are claimed
    by the next consumer that reads (XAUTOCLAIM). An entry delivered ``max_deliveries`` times is
    a poison message: it goes to the dead-letter stream and is acknowledged, so it cannot hold
    up the others.
    """

    def __init__(
        self,
        bus: RedisStreamsBus,
        group: str,
        consumer: str,
        claim_idle_s: float = 30.0,
        max_deliveries: int = 5,
        start: str = "0",
    ) -> None:
        self._bus = bus
        self._redis = bus._redis
        self.group, self.consumer = group, consumer
        self.claim_idle_ms = int(claim_idle_s * 1000)
        self.max_deliveries = max_deliveries
        try:
            self._redis.xgroup_create(bus.stream, group, id=start, mkstream=True)
        except redis.ResponseError as exc:
            if "BUSYGROUP" not in str(exc):
                raise

    def read(self, limit: int = 100, block_s: float = 0.0) -> list[Entry]:
        """Return entries for this consumer: stale ones of others first, then new ones."""
        _next, claimed, _deleted = self._redis.xautoclaim(
            self._bus.stream, self.group, self.consumer, self.claim_idle_ms, "0-0", count=limit
        )
        items = self._drop_poison(claimed) if claimed else []
        if not items:
            answer: Any = self._redis.xreadgroup(
                self.group, self.consumer, {self._bus.stream: ">"}, count=limit, block=block_ms(block_s)
            )
            items = [item for _stream, entries in answer or () for item in entries]
        out: list[Entry] = []
        for entry_id, fields in items:
            event = self._bus._decode(entry_id.decode(), fields)
            if event is None:
                self.ack([entry_id.decode()])  # dead-lettered by _decode: never deliver it again
            else:
                out.append((entry_id.decode(), event))
        return out

    def ack(self, offsets: list[Offset]) -> None:
        """Acknowledge entries this consumer has dealt with."""
        if offsets:
            self._redis.xack(self._bus.stream, self.group, *offsets)

    def _drop_poison(self, claimed: list) -> list:
        ids = [entry_id for entry_id, _ in claimed]
        pending: Any = self._redis.xpending_range(
            self._bus.stream, self.group, min=ids[0], max=ids[-1], count=len(ids) * 2
        )
        deliveries: dict[bytes, int] = {p["message_id"]: p["times_delivered"] for p in pending}
        keep = []
        for entry_id, fields in claimed:
            if deliveries.get(entry_id, 0) > self.max_deliveries:
                self._bus.dead_letter(
                    "poison",
                    f"entry {entry_id.decode()} delivered {deliveries[entry_id]} times without acknowledgement",
                    fields.get(b"e", b""),
                )
                self.ack([entry_id.decode()])
            else:
                keep.append((entry_id, fields))
        return keep
