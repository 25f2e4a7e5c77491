"""The JSON Schema of the format: valid draft 2020-12, accepts the real files, rejects what the loader rejects."""

from __future__ import annotations

from pathlib import Path

import jsonschema
import pytest
import yaml

from survey_platform.questionnaire.schema import questionnaire_schema

QUESTIONNAIRES = Path(__file__).resolve().parents[2] / "questionnaires"


@pytest.fixture(scope="module")
def validator() -> jsonschema.Draft202012Validator:
    schema = questionnaire_schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


def _data(name: str) -> dict:
    return yaml.safe_load((QUESTIONNAIRES / name).read_text(encoding="utf-8"))


@pytest.mark.parametrize("name", sorted(p.name for p in QUESTIONNAIRES.glob("*.yaml")))
def test_real_questionnaires_validate(validator: jsonschema.Draft202012Validator, name: str) -> None:
    errors = [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(_data(name))]
    assert errors == []


def test_unknown_key_is_rejected(validator: jsonschema.Draft202012Validator) -> None:
    data = _data("appliance_after_sales.yaml")
    data["sections"][0]["questions"][0]["relevent"] = "${q_had_service} = true"
    errors = list(validator.iter_errors(data))
    assert errors and any("relevent" in str(e.message) or "relevent" in str(e) for e in errors)


def test_key_of_another_question_type_is_rejected(validator: jsonschema.Draft202012Validator) -> None:
    data = _data("appliance_after_sales.yaml")
    data["sections"][0]["questions"][0]["max_length"] = 10  # a yes_no question
    assert not validator.is_valid(data)


def test_wrong_types_and_ids_are_rejected(validator: jsonschema.Draft202012Validator) -> None:
    data = _data("appliance_after_sales.yaml")
    data["sections"][0]["questions"][0]["required"] = "yes"
    assert not validator.is_valid(data)
    data = _data("appliance_after_sales.yaml")
    data["sections"][0]["questions"][0]["id"] = "Q1"
    assert not validator.is_valid(data)
    data = _data("appliance_after_sales.yaml")
    data["kind"] = "census"
    assert not validator.is_valid(data)
