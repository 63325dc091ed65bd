"""The factory file: the enterprise's structure, validated with the offending entry named."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from factory.layout import LayoutError, load_plant, names_missing_translation, parse_plant
from support import ROOT


def test_default_enterprise_has_six_sites_with_their_zones(plant):
    assert [s.id for s in plant.sites] == ["zhengzhou", "shenyang", "foshan", "qingdao", "camden", "pune"]
    assert plant.site("camden").timezone == "America/New_York"
    assert plant.site("pune").tz.utcoffset(datetime(2026, 3, 2, tzinfo=UTC)).total_seconds() == 5.5 * 3600
    assert [line.id for line in plant.lines] == ["ac1", "rf1", "wm1", "wh1", "rf2", "ac2"]
    for line in plant.lines:
        assert 8 <= len(line.stations) <= 14
        assert line.stations[0].id == "kitting" and line.stations[-1].id == "loading"
        assert plant.site_of(line.id).id == line.site_id


def test_every_name_in_the_default_file_has_english_and_chinese(plant):
    assert names_missing_translation(plant) == []


def test_a_name_without_chinese_is_found():
    doc = _doc()
    doc["lines"][0]["stations"][0]["name"] = {"en": "Station one"}
    assert any("Station one" in m for m in names_missing_translation(parse_plant(doc)))


def _doc(**overrides):
    doc = {
        "site": {"id": "s"},
        "products": {"p": {"options": {"o": {"choices": {"a": {"work_s": {"st1": 5}}}}}}},
        "lines": [{"id": "l1", "product": "p", "stations": [{"id": "st1", "cycle_s": 10}]}],
    }
    doc.update(overrides)
    return doc


def test_minimal_document_parses():
    plant = parse_plant(_doc())
    assert plant.line("l1").stations[0].machines == 1 and plant.line("l1").site_id == "s"


@pytest.mark.parametrize(
    "overrides, message",
    [
        ({"lines": []}, r"lines: List should have at least 1 item"),
        ({"lines": [{"id": "l1", "product": "nope", "stations": [{"id": "a", "cycle_s": 1}]}]}, "unknown product"),
        ({"lines": [{"id": "l1", "product": "p", "stations": [{"id": "x", "cycle_s": 1}]}]}, "no station 'st1'"),
        (
            {"lines": [{"id": "l1", "product": "p", "stations": [{"id": "st1", "cycle_s": 0}]}]},
            r"stations\[0\]\.cycle_s: Input should be greater than 0",
        ),
        (
            {"lines": [{"id": "l1", "product": "p", "stations": [{"id": "st1"}]}]},
            r"stations\[0\]\.cycle_s: Field required",
        ),
        (
            {"lines": [{"id": "l1", "product": "p", "stations": [{"id": "st1", "cycle_s": 5, "buffer": -1}]}]},
            r"buffer: Input should be greater than or equal to 0",
        ),
        ({"simulation": {"cycle_cv": -0.1}}, r"simulation\.cycle_cv"),
        ({"simulation": {"order_pattern": [1, 2]}}, "24 non-negative weights"),
        ({"site": {"id": "s", "timezone": "Mars/Olympus"}}, "unknown time zone"),
    ],
)
def test_bad_documents_name_the_problem(overrides, message):
    with pytest.raises(LayoutError, match=message):
        parse_plant(_doc(**overrides))


def test_edge_values_are_accepted():
    doc = _doc(simulation={"cycle_cv": 0, "load_factor": 0.5})
    doc["lines"][0]["stations"].append({"id": "st2", "cycle_s": 3, "buffer": 0})
    plant = parse_plant(doc)
    assert plant.line("l1").stations[1].buffer == 0 and plant.spec.simulation.cycle_cv == 0


def test_option_rules_name_known_options_only():
    doc = _doc()
    doc["products"]["p"]["rules"] = [{"when": {"o": "a"}, "forbid": {"colour": ["red"]}, "because": "no"}]
    with pytest.raises(LayoutError, match="unknown option 'colour'"):
        parse_plant(doc)


def test_rules_shape_the_configurations(plant):
    washer = plant.products["washing_machine"]
    allowed = [options for options, _ in washer.configurations()]
    assert {"capacity": "kg8", "colour": "white", "dryer": "heat_pump"} not in allowed
    assert washer.violations({"capacity": "kg8", "colour": "white", "dryer": "heat_pump"})
    assert abs(sum(p for _, p in washer.configurations()) - 1) < 1e-12


def test_unreadable_file_is_a_layout_error(tmp_path):
    with pytest.raises(LayoutError, match="cannot read"):
        load_plant(tmp_path / "missing.yaml")
    (tmp_path / "bad.yaml").write_text("lines: [")
    with pytest.raises(LayoutError, match="not valid YAML"):
        load_plant(tmp_path / "bad.yaml")


def test_the_file_loads_from_the_repository():
    assert load_plant(ROOT / "factory.yaml").id == "haier"
