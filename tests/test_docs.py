"""The documentation says what the code does."""

import json
import re

from streams import codec
from streams.events import EVENT_TYPES
from streams.schema import all_schemas
from support import ROOT


def test_event_schema_file_is_current():
    committed = json.loads((ROOT / "docs" / "events.schema.json").read_text())
    assert committed == all_schemas(), "run: python -m streams.schema > docs/events.schema.json"


def test_every_event_type_has_a_decodable_example_in_events_md():
    text = (ROOT / "docs" / "events.md").read_text()
    examples = [json.loads(block) for block in re.findall(r"```json\n(.*?)\n```", text, re.S)]
    documented = {codec.from_dict(doc).TYPE for doc in examples if "specversion" in doc}
    assert documented == set(EVENT_TYPES)
