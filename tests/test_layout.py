import pytest

from factory.layout import LayoutError, load_plant, parse_plant


def test_default_plant_has_three_lines_in_flow_order(plant):
    assert [line.id for line in plant.lines] == ["ac1", "wm1", "rf1"]
    for line in plant.lines:
        assert 8 <= len(line.stations) <= 14
        assert line.stations[0].id == "kitting" and line.stations[-1].id == "loading"


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
    assert plant.line("l1").stations[0].machines == 1


@pytest.mark.parametrize(
    "overrides, message",
    [
        ({"lines": []}, "no lines"),
        ({"lines": [{"id": "l1", "product": "nope", "stations": [{"id": "a", "cycle_s": 1}]}]}, "unknown product"),
        ({"lines": [{"id": "l1", "product": "p", "stations": [{"id": "x", "cycle_s": 1}]}]}, "no station 'st1'"),
        ({"lines": [{"id": "l1", "product": "p", "stations": [{"id": "st1", "cycle_s": 0}]}]}, "cycle_s must be > 0"),
        ({"lines": [{"id": "l1", "product": "p", "stations": [{"id": "st1"}]}]}, "missing 'cycle_s'"),
    ],
)
def test_bad_documents_name_the_problem(overrides, message):
    with pytest.raises(LayoutError, match=message):
        parse_plant(_doc(**overrides))


def test_unreadable_file_is_a_layout_error(tmp_path):
    with pytest.raises(LayoutError, match="cannot read"):
        load_plant(tmp_path / "missing.yaml")
    (tmp_path / "bad.yaml").write_text("lines: [")
    with pytest.raises(LayoutError, match="not valid YAML"):
        load_plant(tmp_path / "bad.yaml")
