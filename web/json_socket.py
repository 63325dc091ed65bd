"""Socket.IO's packets for this product: JSON only, encoded by orjson.

Frames are encoded by orjson (several times faster than the stdlib). And since no view carries
bytes, packets skip python-socketio's check for binary attachments, which walks every item of
every frame: 17 % of the server's time at 2,000 tracker frames a second (bench/tracker_viewers.py).
"""

from __future__ import annotations

from typing import Any

import orjson
from socketio.packet import Packet


class OrjsonForSocketIO:
    """The ``json`` module interface python-socketio calls (dumps/loads)."""

    @staticmethod
    def dumps(obj: Any, *args: Any, **kwargs: Any) -> str:
        return orjson.dumps(obj, option=orjson.OPT_NON_STR_KEYS).decode()

    @staticmethod
    def loads(text: str | bytes, *args: Any, **kwargs: Any) -> Any:
        return orjson.loads(text)


class JsonPacket(Packet):
    """A Socket.IO packet that is never binary (the server's ``serializer``)."""

    uses_binary_events = False
