"""The demo's record schema (model/python/demo/record.schema.json) says what
the task's records are: the same properties in the same order, the same
values. Fails when inspection_task.py changes and the schema does not."""

import json
import pathlib
import sys

DEMO = pathlib.Path(__file__).resolve().parents[2] / "model" / "python" / "demo"
sys.path.insert(0, str(DEMO))

import inspection_task as task  # noqa: E402

SCHEMA = json.loads((DEMO / "record.schema.json").read_text())


def test_properties_in_the_record_order_all_required():
    truth = task.PartTruth("plate", "silver", 2, "dent", "centre")
    assert list(SCHEMA["properties"]) == list(truth.record())
    assert SCHEMA["required"] == list(truth.record())
    assert SCHEMA["additionalProperties"] is False


def test_values_are_the_tasks():
    properties = SCHEMA["properties"]
    assert properties["status"]["enum"] == ["OK", "NG"]
    assert properties["defect"]["enum"] == [task.NO_DEFECT, *task.DEFECTS]
    assert properties["location"]["enum"] == [task.NO_DEFECT, *task.LOCATIONS]
    assert (properties["holes"]["minimum"], properties["holes"]["maximum"]) == (0, task.MAX_HOLES)
