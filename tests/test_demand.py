"""Demand aggregation on small inputs whose numbers are worked out by hand (factory/demand.py)."""

from datetime import UTC, date, datetime

import pytest

from factory import demand
from factory.layout import Choice, Option, Product, Rule

D1, D3 = datetime(2026, 3, 2, 9, tzinfo=UTC), datetime(2026, 3, 4, 17, tzinfo=UTC)


def _option(oid, *choices):
    return Option(oid, {"en": oid}, tuple(Choice(c, {"en": c}, 1.0) for c in choices))


def _product(pid="p", rules=()):
    return Product(
        pid, {"en": pid}, "P", (_option("a", "x", "y"), _option("b", "u", "v"), _option("c", "m", "n")), rules
    )


def _wishes(spec, pid="p"):
    """spec: (a, b, c, wishes, orders, time) -> the rows of a wishes table."""
    rows = []
    for a, b, c, n, ordered, t in spec:
        rows += [(pid, {"a": a, "b": b, "c": c}, i < ordered, t) for i in range(n)]
    return demand.frame(rows)


def test_no_wishes_at_all_is_no_demand():
    assert demand.analyse(demand.frame([]), {"p": _product()}) == {}


def test_combinations_concentration_one_variant_and_the_trend():
    # xum 5 wishes (3 ordered), xun 3 (2), yvn 1 (1), yvm 1 (0): 10 wishes, 6 orders.
    table = _wishes(
        [("x", "u", "m", 3, 3, D1), ("x", "u", "m", 2, 0, D3), ("x", "u", "n", 3, 2, D1),
         ("y", "v", "n", 1, 1, D3), ("y", "v", "m", 1, 0, D3)]
    )  # fmt: skip
    d = demand.analyse(table, {"p": _product()})["p"]
    assert (d.wishes, d.orders, d.abandoned) == (10, 6, 4)
    # Most wished first; yvn and yvm tie on wishes, yvn has the order.
    assert [(c.options, c.wishes, c.orders, c.share) for c in d.combinations] == [
        ({"a": "x", "b": "u", "c": "m"}, 5, 3, 0.5),
        ({"a": "x", "b": "u", "c": "n"}, 3, 2, 0.3),
        ({"a": "y", "b": "v", "c": "n"}, 1, 1, 0.1),
        ({"a": "y", "b": "v", "c": "m"}, 1, 0, 0.1),
    ]
    # Wishes 5, 8 (= 80 % of 10): two combinations. Orders 3, 5 of 6 (4.8 is 80 %): two.
    assert (d.cover_wishes, d.cover_orders) == (2, 2)
    assert d.cumulative_wishes == pytest.approx([0.5, 0.8, 0.9, 1.0])
    assert d.cumulative_orders == pytest.approx([3 / 6, 5 / 6, 1.0])
    # k = 1: the weighted mode is x (8 of 10), u (8), m (6): xum. Within one option: xum 5 and
    # xun 3, 8 of 10 = 80 %, enough. yvm (two apart) and yvn (three) are not served.
    assert d.tolerance == 1
    assert [(v.options, v.wishes, v.exact, v.share) for v in d.variants] == [
        ({"a": "x", "b": "u", "c": "m"}, 8, 5, 0.8)
    ]
    assert d.served == pytest.approx(0.8)
    # Days 2, 3 and 4 March (the 3rd without wishes), one series per combination, no "other".
    assert d.trend.days == [date(2026, 3, 2), date(2026, 3, 3), date(2026, 3, 4)]
    assert d.trend.series == [
        ({"a": "x", "b": "u", "c": "m"}, [3, 0, 2]),
        ({"a": "x", "b": "u", "c": "n"}, [3, 0, 0]),
        ({"a": "y", "b": "v", "c": "n"}, [0, 0, 1]),
        ({"a": "y", "b": "v", "c": "m"}, [0, 0, 1]),
    ]


def test_two_clusters_when_one_variant_serves_too_little():
    # xum 5, yvn 3 (2 ordered), xun 2 (1), yvm 1: 11 wishes. k = 1: mode xum serves xum + xun =
    # 7 of 11 (64 %). k = 2 starts from the two most wished, xum and yvn; xun joins xum (one
    # apart), yvm joins yvn: both clusters keep their modes and serve everything.
    table = _wishes(
        [("x", "u", "m", 5, 0, D1), ("y", "v", "n", 3, 2, D1), ("x", "u", "n", 2, 1, D1), ("y", "v", "m", 1, 0, D1)]
    )
    d = demand.analyse(table, {"p": _product()})["p"]
    assert [(v.options, v.wishes, v.exact) for v in d.variants] == [
        ({"a": "x", "b": "u", "c": "m"}, 7, 5),
        ({"a": "y", "b": "v", "c": "n"}, 4, 3),
    ]
    assert [v.share for v in d.variants] == pytest.approx([7 / 11, 4 / 11])
    assert d.served == pytest.approx(1.0)
    assert (d.cover_wishes, d.cover_orders) == (3, 2)  # wishes 5, 8, 10 of 11 (8.8); orders 2, 3 of 3 (2.4)


def test_a_suggested_variant_is_always_buildable():
    # Someone ordered x-with-m five times though a rule forbids it (an outside system); the mode
    # xvm is not buildable, so the cluster's most wished buildable member, yvm, stands for it.
    rule = Rule(when={"a": "x"}, forbid={"c": ("m",)}, require={}, because={"en": "no"})
    table = _wishes([("x", "v", "m", 5, 5, D1), ("y", "v", "m", 1, 0, D1)])
    d = demand.analyse(table, {"p": _product(rules=(rule,))})["p"]
    assert [(v.options, v.wishes, v.exact) for v in d.variants] == [({"a": "y", "b": "v", "c": "m"}, 6, 1)]


def test_all_wishes_identical():
    table = _wishes([("x", "u", "m", 7, 4, D3)])
    d = demand.analyse(table, {"p": _product()})["p"]
    assert [(c.wishes, c.orders, c.share) for c in d.combinations] == [(7, 4, 1.0)]
    assert (d.cover_wishes, d.cover_orders, d.served) == (1, 1, 1.0)
    assert [(v.wishes, v.exact, v.share) for v in d.variants] == [(7, 7, 1.0)]
    assert d.trend.days == [date(2026, 3, 4)] and d.trend.series == [({"a": "x", "b": "u", "c": "m"}, [7])]


def test_one_product_only_and_unknown_products_left_out():
    table = demand.frame([("p", {"a": "x", "b": "u", "c": "m"}, True, D1), ("no_such_product", {"a": "x"}, True, D1)])
    out = demand.analyse(table, {"p": _product(), "q": _product("q")})
    assert list(out) == ["p"]
    assert out["p"].wishes == 1


def test_no_orders_means_no_order_concentration():
    d = demand.analyse(_wishes([("x", "u", "m", 2, 0, D1)]), {"p": _product()})["p"]
    assert (d.orders, d.cover_orders, d.cumulative_orders, d.cover_wishes) == (0, None, [], 1)


def test_a_product_with_one_option_is_served_only_exactly():
    # x 6, y 3, z 1 of 10. With one option a difference is the whole product: tolerance 0.
    # k = 1 serves x: 60 %. k = 2 (x, y): z is as far from both and is not served: 9 of 10.
    product = Product("one", {"en": "one"}, "O", (_option("a", "x", "y", "z"),))
    rows = [("one", {"a": a}, True, D1) for a, n in (("x", 6), ("y", 3), ("z", 1)) for _ in range(n)]
    d = demand.analyse(demand.frame(rows), {"one": product})["one"]
    assert d.tolerance == 0
    assert d.cover_wishes == 2  # 6, then 9 of 10
    assert [(v.options, v.wishes, v.exact) for v in d.variants] == [({"a": "x"}, 6, 6), ({"a": "y"}, 3, 3)]
    assert d.served == pytest.approx(0.9)


def test_a_missing_option_is_its_own_value_and_never_a_variant():
    rows = [("p", {"a": "x", "b": "u", "c": "m"}, True, D1)] * 3 + [("p", {"a": "x", "b": "u"}, False, D1)]
    d = demand.analyse(demand.frame(rows), {"p": _product()})["p"]
    assert [c.options for c in d.combinations] == [{"a": "x", "b": "u", "c": "m"}, {"a": "x", "b": "u", "c": ""}]
    assert [(v.options, v.wishes, v.exact) for v in d.variants] == [({"a": "x", "b": "u", "c": "m"}, 4, 3)]


def test_never_more_than_the_cap_of_variants(monkeypatch):
    # All eight combinations once each: any one variant serves itself and its three neighbours,
    # 4 of 8; with a cap of one variant that is all there is, below the 80 % aimed at.
    monkeypatch.setattr(demand, "MAX_VARIANTS", 1)
    spec = [(a, b, c, 1, 0, D1) for a in "xy" for b in "uv" for c in "mn"]
    d = demand.analyse(_wishes(spec), {"p": _product()})["p"]
    assert [(v.wishes, v.exact) for v in d.variants] == [(4, 1)]
    assert d.served == pytest.approx(0.5)
