"""Frames for one room: a whole view on join, then small patches, each with its sequence number.

A frame is ``{"e": epoch, "s": seq, "v": view}`` (whole) or ``{"e": epoch, "s": seq, "b": base,
"p": patch}`` (what changed since frame ``base``). The browser applies a patch only to the frame
it was made from; on a gap it asks for the whole view again (``resync``), so nothing is missed
after a dropped connection, and a server restart (a new ``epoch``) is a fresh start.

Patches (:func:`diff`, applied by ``tf.applyPatch`` in ``assets/tf-common.js``) stay JSON: ``{"=": x}``
replaces a value, ``{"+": {k: …}}`` patches an object key by key (``{"-": 1}`` removes a key),
``{"*": {i: …}}`` patches a list of the same length item by item. A tracker patch for a unit
that moved on is a few hundred bytes instead of the whole 1.7 kB view.
"""

from __future__ import annotations

import secrets
from typing import Any

_MISSING = object()


def diff(old: Any, new: Any) -> Any:
    """Return the patch that turns ``old`` into ``new``, or None when they are equal."""
    if old == new:
        return None
    if isinstance(old, dict) and isinstance(new, dict):
        changes: dict[str, Any] = {}
        for key, value in new.items():
            before = old.get(key, _MISSING)
            if before is _MISSING:
                changes[key] = {"=": value}
            else:
                patch = diff(before, value)
                if patch is not None:
                    changes[key] = patch
        for key in old:
            if key not in new:
                changes[key] = {"-": 1}
        return {"+": changes}
    if isinstance(old, list) and isinstance(new, list) and len(old) == len(new) and old:
        items = {str(i): patch for i, (a, b) in enumerate(zip(old, new)) if (patch := diff(a, b)) is not None}
        return {"*": items}
    return {"=": new}


def patch(value: Any, change: Any) -> Any:
    """Apply a patch made by :func:`diff` (the browser does the same in assets/tf-common.js)."""
    if "=" in change:
        return change["="]
    if "+" in change:
        out = dict(value)
        for key, sub in change["+"].items():
            if "-" in sub:
                out.pop(key, None)
            else:
                out[key] = patch(out.get(key), sub)
        return out
    out_list = list(value)
    for index, sub in change["*"].items():
        out_list[int(index)] = patch(out_list[int(index)], sub)
    return out_list


class RoomFrames:
    """The last view sent to each room, and the next frame for it."""

    def __init__(self) -> None:
        self.epoch = secrets.token_hex(4)
        self._last: dict[str, tuple[int, Any]] = {}  # room -> (seq, view)

    def whole(self, room: str, view: Any) -> dict[str, Any]:
        """Return a whole frame for a socket joining ``room``.

        A room that others watch gives its last frame's view (the next patch, sent to every
        member alike, brings the newcomer up to date with them); a new room starts at ``view``.
        """
        known = self._last.get(room)
        if known is None:
            known = self._last[room] = (1, view)
        return {"e": self.epoch, "s": known[0], "v": known[1]}

    def next(self, room: str, view: Any) -> dict[str, Any] | None:
        """Return the frame that brings the room from its last view to ``view`` (None: nothing changed)."""
        known = self._last.get(room)
        if known is None:
            return self.whole(room, view)
        seq, last = known
        change = diff(last, view)
        if change is None:
            return None
        self._last[room] = (seq + 1, view)
        return {"e": self.epoch, "s": seq + 1, "b": seq, "p": change}

    def forget(self, room: str) -> None:
        """Drop a room nobody watches any more."""
        self._last.pop(room, None)

    def rooms(self) -> int:
        """Return how many rooms have a last view."""
        return len(self._last)
