"""A plain python-socketio asyncio server: the same-run baseline of bench/tracker_viewers.py.

    python bench/plain_socketio_server.py --redis-url URL --port PORT [--frame-bytes 400]

It does what the tracker push must do at the least, with nothing of ours in the way: one
asyncio task reads the app's Redis stream (XREAD, up to 5,000 entries a call), decodes each
entry's JSON, learns each order's tracking token from its ``OrderPlaced`` and, for every
``StationEntered``, emits one frame of about ``--frame-bytes`` bytes of JSON (the size of ours,
measured by the benchmark) to the order's room ``order:<token>``. A socket joins that room when
its handshake names the token (``auth={"view": "track", "token": ...}``) and gets one frame on
join, as ours does. No coalescing, no projection, no history: python-socketio's AsyncServer
under aiohttp's web server, one process, one thread.
"""

from __future__ import annotations

import argparse
import asyncio
import time
from typing import Any

import orjson
import redis.asyncio as aioredis
import socketio
from aiohttp import web

STREAM = "tf:events"
ORDER_PLACED = "com.transparentfactory.order.placed.v1"
STATION_ENTERED = "com.transparentfactory.unit.station_entered.v1"


def frame_of(size: int, seq: int) -> dict[str, Any]:
    """Return a frame whose compact JSON is about ``size`` bytes."""
    base = {"e": "plain000", "s": seq, "b": seq - 1, "p": ""}
    pad = max(0, size - len(orjson.dumps(base)))
    base["p"] = "x" * pad
    return base


def route(fields: dict, tokens: dict[str, str], known: set[str]) -> str | None:
    """Learn an order's token from its OrderPlaced; return the token a station entry's frame goes to."""
    doc = orjson.loads(fields[b"e"])
    data = doc.get("data") or {}
    if doc.get("type") == ORDER_PLACED:
        tokens[data["unit_code"]] = data["tracking_token"]
        known.add(data["tracking_token"])
    elif doc.get("type") == STATION_ENTERED:
        return tokens.get(str(data.get("unit_code")))
    return None


def routed(answer: Any, after: Any, tokens: dict[str, str], known: set[str]) -> tuple[Any, list[str]]:
    """Read an XREAD answer: the id to read on after, and the tokens of the frames to send, in order."""
    rooms: list[str] = []
    for _stream, entries in answer or ():
        for entry_id, fields in entries:
            after = entry_id
            token = route(fields, tokens, known)
            if token is not None:
                rooms.append(token)
    return after, rooms


def build(frame_bytes: int) -> tuple[socketio.AsyncServer, web.Application, dict[str, str]]:
    sio = socketio.AsyncServer(async_mode="aiohttp", cors_allowed_origins="*")
    app = web.Application()
    sio.attach(app)
    tokens: dict[str, str] = {}  # unit code -> tracking token
    known: set[str] = set()

    @sio.event
    async def connect(sid: str, _environ: dict, auth: Any = None) -> bool:
        token = (auth or {}).get("token")
        if not isinstance(token, str) or token not in known:
            return False
        room = f"order:{token}"
        await sio.enter_room(sid, room)
        await sio.emit("order", frame_of(frame_bytes, 1), to=sid)
        return True

    async def ready(_request: web.Request) -> web.Response:
        return web.json_response({"orders": len(known)})

    app.router.add_get("/ready", ready)

    async def pump(_app: web.Application) -> None:
        client = aioredis.Redis.from_url(app["redis_url"])
        after: Any = "0-0"
        seq = 1
        while True:
            answer: Any = await client.xread({STREAM: after}, count=5000, block=1000)
            after, sends = routed(answer, after, tokens, known)
            for token in sends:
                seq += 1
                await sio.emit("order", frame_of(frame_bytes, seq), room=f"order:{token}")

    async def start(app_: web.Application) -> None:
        app_["pump"] = asyncio.create_task(pump(app_))

    async def stop(app_: web.Application) -> None:
        app_["pump"].cancel()

    app.on_startup.append(start)
    app.on_cleanup.append(stop)
    return sio, app, tokens


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--redis-url", required=True)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--frame-bytes", type=int, default=400, help="JSON size of each frame sent")
    args = parser.parse_args()
    _sio, app, _tokens = build(args.frame_bytes)
    app["redis_url"] = args.redis_url
    print(f"plain python-socketio server on port {args.port} ({time.strftime('%H:%M:%S')})", flush=True)
    web.run_app(app, host="127.0.0.1", port=args.port, print=None, access_log=None)


if __name__ == "__main__":
    main()
