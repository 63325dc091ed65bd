"""Trackers whose queue moved: gathered once a beat, handed out a chunk at a time, each once."""

from __future__ import annotations

import pytest

from web.push.queue_moves import QueueMoves


def _moves(beat_s: float = 1.0, chunk: int = 2):
    marked: set[str] = set()
    clock = [0.0]

    def take() -> set[str]:
        out = set(marked)
        marked.clear()
        return out

    return QueueMoves(take, beat_s=beat_s, chunk=chunk, clock=lambda: clock[0]), marked, clock


def test_gathered_once_a_beat_and_handed_out_a_chunk_at_a_time():
    moves, marked, clock = _moves()
    marked.update({"U1", "U2", "U3"})
    first = moves.due()  # the first beat is due at once
    assert len(first) == 2 and moves.pending() == 1
    marked.update({"U4", *first})  # marked again meanwhile: they wait for the next beat
    clock[0] = 0.5
    rest = moves.due()
    assert rest == {"U1", "U2", "U3"} - first and moves.pending() == 0
    assert moves.due() == set()  # nothing more before the beat
    clock[0] = 1.0
    assert moves.due() | moves.due() == {"U4", *first}
    assert moves.pending() == 0


def test_a_unit_marked_again_before_its_turn_gets_one_frame():
    moves, marked, clock = _moves(chunk=1)
    marked.update({"U1", "U2"})
    (sent,) = moves.due()
    (waiting,) = {"U1", "U2"} - {sent}
    marked.add(waiting)  # its queue moved again while it waited for its turn
    clock[0] = 1.0
    assert [moves.due(), moves.due()] == [{waiting}, set()]


def test_nonsense_settings_are_refused():
    with pytest.raises(ValueError):
        QueueMoves(set, chunk=0)
    with pytest.raises(ValueError):
        QueueMoves(set, beat_s=-1)
