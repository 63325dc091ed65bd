"""The wishes query (factory/history/wishes.py): orders plus visits that did not order, each visit once."""

from datetime import UTC, datetime, timedelta

from factory import demand
from factory.history import open_history
from factory.history.wishes import wish_span, wishes
from streams import events as ev

T = datetime(2026, 3, 2, 8, tzinfo=UTC)
AC = {"model": "AS12", "panel": "white", "wifi": "wifi"}


def _draft(n, session, minute, options, ordered=False):
    return ev.ConfigurationDrafted(
        id=f"d-{n}",
        source="/configure",
        time=T + timedelta(minutes=minute),
        session_id=session,
        product="air_conditioner",
        options=options,
        ordered=ordered,
    )


def _order(n, minute, options, product="air_conditioner", line="ac1"):
    return ev.OrderPlaced(
        id=f"o-{n}",
        source=f"/test/{line}",
        time=T + timedelta(minutes=minute),
        order_id=f"SO-{n}",
        unit_code=f"U{n}",
        tracking_token=f"token-{n}-0123456789abcdef",
        line_id=line,
        product=product,
        options=options,
    )


def test_orders_and_abandoned_visits_are_the_wishes(plant, tmp_path):
    history = open_history(tmp_path / "h.duckdb", plant)
    assert wish_span(history) is None and wishes(history, plant).empty
    first = _draft(1, "visit-a", 0, {"model": "AS09"})
    batch = [
        first,
        _draft(2, "visit-a", 5, {**AC, "model": "AS18", "panel": "graphite"}),  # visit a ends here, no order
        _draft(3, "visit-b", 1, AC),
        _draft(4, "visit-b", 2, AC, ordered=True),  # visit b ordered: its order counts, not the draft
        _order(1, 2, AC),
        _order(2, 3, {"model": "AS09", "panel": "white", "wifi": "none"}, line="ac2"),  # the plant's own
        _order(3, 4, {"capacity": "kg8", "colour": "white", "dryer": "none"}, "washing_machine", "wm1"),
    ]
    assert len(history.record(batch).new) == len(batch)
    assert history.record([first]).duplicate_ids == 1  # a redelivered draft is still a copy
    table = wishes(history, plant)
    text = lambda v: v if isinstance(v, str) else None  # noqa: E731 - a missing option is null
    got = sorted(
        (row["product"], bool(row["ordered"]), row["time"], text(row["option:model"]), text(row["option:capacity"]))
        for _, row in table.iterrows()
    )
    minute = lambda m: T + timedelta(minutes=m)  # noqa: E731
    assert got == [
        ("air_conditioner", False, minute(5), "AS18", None),
        ("air_conditioner", True, minute(2), "AS12", None),
        ("air_conditioner", True, minute(3), "AS09", None),
        ("washing_machine", True, minute(4), None, "kg8"),
    ]
    assert table.loc[table["option:model"] == "AS18", "option:panel"].item() == "graphite"
    assert wish_span(history) == (T, minute(5))
    # A range: a visit counts at its latest draft, an order at its placing.
    assert len(wishes(history, plant, start=minute(3), end=minute(5))) == 2  # AS09 order and the washer
    assert len(wishes(history, plant, start=minute(5))) == 1  # visit a, which began before the range
    # The analysis reads the table as it comes.
    result = demand.analyse(table, plant.products)
    assert (result["air_conditioner"].wishes, result["air_conditioner"].orders) == (3, 2)
    assert result["washing_machine"].combinations[0].options == {"capacity": "kg8", "colour": "white", "dryer": "none"}
