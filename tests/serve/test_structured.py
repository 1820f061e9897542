"""Structured outputs through the official client: every sample of a random-weight model is valid JSON."""
import json
from typing import Literal

import jsonschema
import pytest
from pydantic import BaseModel, Field

SCHEMAS = {
    "nested objects": {
        "type": "object", "additionalProperties": False, "required": ["user"],
        "properties": {"user": {"type": "object", "additionalProperties": False, "required": ["id", "address"],
                                "properties": {"id": {"type": "integer", "minimum": 0, "maximum": 999},
                                               "address": {"type": "object", "additionalProperties": False,
                                                           "required": ["zip"],
                                                           "properties": {"zip": {"type": "string",
                                                                                  "pattern": "^[0-9]{5}$"}}}}}}},
    "arrays": {
        "type": "object", "additionalProperties": False, "required": ["points"],
        "properties": {"points": {"type": "array", "minItems": 1, "maxItems": 3,
                                  "items": {"type": "array", "minItems": 2, "maxItems": 2,
                                            "items": {"type": "integer", "minimum": -9, "maximum": 9}}}}},
    "enums": {
        "type": "object", "additionalProperties": False, "required": ["color", "size"],
        "properties": {"color": {"enum": ["red", "green", "blue"]}, "size": {"enum": ["S", "M", "L", 42, None]}}},
    "numbers with bounds": {
        "type": "object", "additionalProperties": False, "required": ["ratio", "count"],
        "properties": {"ratio": {"type": "number", "minimum": 0, "maximum": 1},
                       "count": {"type": "integer", "exclusiveMinimum": 10, "maximum": 20}}},
    "required and optional": {
        "type": "object", "additionalProperties": False, "required": ["name"],
        "properties": {"name": {"type": "string", "minLength": 1, "maxLength": 4},
                       "age": {"type": "integer", "minimum": 0, "maximum": 120},
                       "ok": {"type": "boolean"}}},
}


def fmt(name: str, schema: dict) -> dict:
    return {"type": "json_schema", "json_schema": {"name": name.replace(" ", "_"), "schema": schema, "strict": True}}


@pytest.mark.parametrize("name", list(SCHEMAS))
def test_200_seeded_samples_are_valid_under_each_schema(json_client, name):
    schema = SCHEMAS[name]
    texts = []
    for seed in (0, 100):       # 2 x 100 choices, choice i seeded seed + i
        out = json_client.chat.completions.create(
            model="tiny-json", messages=[{"role": "user", "content": "Give me JSON."}], n=100, seed=seed,
            temperature=1.0, max_tokens=120, response_format=fmt(name, schema))
        assert all(c.finish_reason == "stop" for c in out.choices), [c.finish_reason for c in out.choices]
        texts += [c.message.content for c in out.choices]
    assert len(texts) == 200
    for text in texts:
        jsonschema.validate(json.loads(text), schema)
    assert len(set(texts)) >= 10                    # seeded samples, not one answer repeated


def test_json_object_mode_on_completions_and_streaming(json_client):
    out = json_client.completions.create(model="tiny-json", prompt="JSON:", max_tokens=150, seed=1, n=8,
                                         extra_body={"response_format": {"type": "json_object"}})   # as in vLLM
    finished = [c.text for c in out.choices if c.finish_reason == "stop"]
    assert finished and all(isinstance(json.loads(t), dict) for t in finished)
    schema = SCHEMAS["enums"]
    chunks = list(json_client.chat.completions.create(
        model="tiny-json", messages=[{"role": "user", "content": "x"}], stream=True, seed=5, max_tokens=60,
        response_format=fmt("enums", schema)))
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert sum(1 for c in chunks if c.choices and c.choices[0].delta.content) > 3   # it did stream
    jsonschema.validate(json.loads(text), schema)
    assert chunks[-1].choices[0].finish_reason == "stop"


class Address(BaseModel):
    zip: str = Field(pattern=r"^[0-9]{5}$")


class Person(BaseModel):
    kind: Literal["cat", "dog"]
    age: int = Field(ge=0, le=30)
    home: Address


def test_parse_with_a_pydantic_model(json_client):
    out = json_client.chat.completions.parse(model="tiny-json", messages=[{"role": "user", "content": "a pet"}],
                                             response_format=Person, max_tokens=100, seed=3)
    person = out.choices[0].message.parsed
    assert isinstance(person, Person) and isinstance(person.home, Address)
    assert json.loads(out.choices[0].message.content) == person.model_dump()


def test_a_grammar_the_vocabulary_cannot_finish_says_so(json_client):
    schema = {"enum": ["caf\u00e9"]}              # no "é" among this model's characters
    out = json_client.chat.completions.create(model="tiny-json", messages=[{"role": "user", "content": "x"}],
                                              max_tokens=20, response_format=fmt("cafe", schema))
    assert out.choices[0].finish_reason == "no_valid_token"
    assert out.choices[0].message.content == '"caf'
