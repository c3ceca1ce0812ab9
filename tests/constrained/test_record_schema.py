"""The demo's record schema (model/python/demo/record.schema.json) says what
the task's records are: every record a part can have validates, properties
in the record's order, and nothing else does (no record that contradicts
itself, no other value). Fails when inspection_task.py changes and the
schema does not."""

import itertools
import json
import pathlib
import sys

import jsonschema

DEMO = pathlib.Path(__file__).resolve().parents[2] / "model" / "python" / "demo"
sys.path.insert(0, str(DEMO))

import inspection_task as task  # noqa: E402

SCHEMA = json.loads((DEMO / "record.schema.json").read_text())
VALIDATOR = jsonschema.Draft202012Validator(SCHEMA)


def truths():
    for holes in range(task.MAX_HOLES + 1):
        yield task.PartTruth("plate", "silver", holes, task.NO_DEFECT, task.NO_DEFECT)
        for defect, location in itertools.product(task.DEFECTS, task.LOCATIONS):
            yield task.PartTruth("plate", "silver", holes, defect, location)


def test_the_schema_is_valid():
    jsonschema.Draft202012Validator.check_schema(SCHEMA)


def test_every_record_of_the_task_validates():
    for truth in truths():
        VALIDATOR.validate(truth.record())


def test_properties_in_the_record_order_all_required():
    record_order = list(next(truths()).record())
    for alternative in SCHEMA["anyOf"]:
        assert list(alternative["properties"]) == record_order
        assert alternative["required"] == record_order
        assert alternative["additionalProperties"] is False


def test_nothing_but_the_tasks_records_validates():
    records = {json.dumps(truth.record()) for truth in truths()}
    values = {"status": ["OK", "NG", "UNKNOWN"],
              "defect": [task.NO_DEFECT, *task.DEFECTS, "rust"],
              "location": [task.NO_DEFECT, *task.LOCATIONS, "left"],
              "holes": [-1, 0, task.MAX_HOLES, task.MAX_HOLES + 1]}
    for combination in itertools.product(*values.values()):
        record = dict(zip(values, combination))
        assert VALIDATOR.is_valid(record) == (json.dumps(record) in records), record
    assert not VALIDATOR.is_valid({"status": "OK", "defect": "none", "location": "none"})
