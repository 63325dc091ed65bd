"""The plain server again, on the product's stack: Flask-SocketIO under gevent's WSGI server.

    python bench/plain_flask_gevent_server.py --redis-url URL --port PORT [--frame-bytes 400]

The same job as bench/plain_socketio_server.py (read the stream, one frame of ``--frame-bytes``
per station event to the order's room, one on join), with nothing of ours in the way, but served
the way the app is: Flask-SocketIO in gevent mode (gevent's pywsgi, simple-websocket), one
process, greenlets. Set beside python-socketio's asyncio server in the same command, it tells
what the server model costs and what our own code does (bench/tracker_viewers.py
``--baseline both``).
"""

from __future__ import annotations

from gevent import monkey

monkey.patch_all()  # before anything opens a socket: the Redis client must yield like the rest

import argparse
import time
from typing import Any

import flask
import redis
from flask_socketio import SocketIO, join_room
from plain_socketio_server import STREAM, frame_of, routed


def build(redis_url: str, frame_bytes: int) -> tuple[SocketIO, flask.Flask]:
    app = flask.Flask(__name__)
    sio = SocketIO(app, async_mode="gevent", cors_allowed_origins="*")
    tokens: dict[str, str] = {}  # unit code -> tracking token
    known: set[str] = set()

    @sio.on("connect")
    def connect(auth: Any = None) -> bool:
        token = (auth or {}).get("token")
        if not isinstance(token, str) or token not in known:
            return False
        join_room(f"order:{token}")
        sio.emit("order", frame_of(frame_bytes, 1), to=flask.request.sid)  # type: ignore[attr-defined]
        return True

    @app.get("/ready")
    def ready():
        return flask.jsonify({"orders": len(known)})

    def pump() -> None:
        client = redis.Redis.from_url(redis_url)
        after: Any = "0-0"
        seq = 1
        while True:
            answer: Any = client.xread({STREAM: after}, count=5000, block=1000)
            after, sends = routed(answer, after, tokens, known)
            for token in sends:
                seq += 1
                sio.emit("order", frame_of(frame_bytes, seq), to=f"order:{token}")
            sio.sleep(0)

    sio.start_background_task(pump)
    return sio, app


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--redis-url", required=True)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--frame-bytes", type=int, default=400, help="JSON size of each frame sent")
    args = parser.parse_args()
    sio, app = build(args.redis_url, args.frame_bytes)
    print(f"plain Flask-SocketIO (gevent) server on port {args.port} ({time.strftime('%H:%M:%S')})", flush=True)
    sio.run(app, host="127.0.0.1", port=args.port, log_output=False)


if __name__ == "__main__":
    main()
