"""`modelcheck schema` describes `--format json`: the JSON of every spec, and
of bad input, validates against it."""
import json

import jsonschema
import pytest

from every_spec import SPECS, result
from helpers import smt_refusal
from modelcheck import cli
from modelcheck.language.model import FINDING_KINDS
from modelcheck.reports import report, schema


def the_schema(capsys):
    assert cli.main(["schema"]) == 0
    return json.loads(capsys.readouterr().out)


def test_schema_is_a_valid_draft_2020_12_schema(capsys):
    doc = the_schema(capsys)
    assert doc["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    jsonschema.Draft202012Validator.check_schema(doc)
    assert doc["$defs"]["finding"]["properties"]["kind"]["enum"] == list(FINDING_KINDS)


@pytest.mark.parametrize("path", SPECS, ids=lambda p: p.name)
def test_every_spec_output_validates(path):
    doc = json.loads(report.as_json([result(path)]))
    assert doc["schema_version"] == schema.SCHEMA_VERSION
    jsonschema.Draft202012Validator(schema.schema()).validate(doc)


@pytest.mark.parametrize("path", SPECS[:6], ids=lambda p: p.name)
def test_smt_engine_output_validates(path):
    refused = smt_refusal(path.read_text())
    if refused:
        pytest.skip(refused)
    doc = json.loads(report.as_json([result(path, "smt")]))
    jsonschema.Draft202012Validator(schema.schema()).validate(doc)


def test_the_command_line_document_validates(capsys, repo_root):
    cli.main(["check", "--format", "json", "specs/proxy_fence_fork.fspec",
              "specs/signalling_lock_inversion.fspec"])
    doc = json.loads(capsys.readouterr().out)
    jsonschema.Draft202012Validator(schema.schema()).validate(doc)
    assert {f["kind"] for f in doc["files"][1]["findings"]} >= {"lock-order"}


def test_the_schema_rejects_what_it_does_not_promise():
    doc = json.loads(report.as_json([result(SPECS[0])]))
    v = jsonschema.Draft202012Validator(schema.schema())
    bad = json.loads(json.dumps(doc))
    del bad["schema_version"]
    assert not v.is_valid(bad)
    bad = json.loads(json.dumps(doc))
    bad["files"][0]["ok"] = "yes"
    assert not v.is_valid(bad)
    bad = json.loads(json.dumps(doc))
    bad["files"][0]["expected"] = ["no-such-kind"]
    assert not v.is_valid(bad)
