"""Required specs: programmatic checks with feedback and corrections; the verifier model for the rest."""
import pytest
from pydantic import ValidationError

from llmos.agent.backends import ScriptedBackend
from llmos.agent.team.spec import (Evidence, FieldCondition, JudgedCondition, ModelJudge, Spec, Verifier,
                                   check_field, compare)


def test_comparisons():
    assert compare("2025-06-12", "eq", "2025-06-12") and not compare("2025-06-13", "eq", "2025-06-12")
    assert compare(" Aisle ", "eq", "aisle") and compare(14.9, "le", 20) and not compare(27.9, "le", 20)
    assert compare("€14.90", "le", 20) and not compare("no price", "le", 20)
    assert compare(["b", "a"], "eq", ["a", "b"]) and compare("Seat 12C booked", "contains", "12c")
    assert compare("ORD-1001", "matches", r"^ORD-\d+$") and compare(2, "eq", 2.0)


def test_field_checks_read_the_named_source():
    ev = Evidence(answer="booked seat 12C", claimed={"seat": "12C"}, records={"booking": {"seat": "12A"}})
    rec = check_field(FieldCondition(source="record:booking", field="seat", value="12C"), ev)
    assert not rec.ok and rec.reason == "seat is '12A' but should be '12C'" and rec.correction == {"seat": "12C"}
    assert check_field(FieldCondition(source="claimed", field="seat", value="12C"), ev).ok  # the claim agrees...
    missing = check_field(FieldCondition(source="record:order", field="item", value="x"), ev)
    assert not missing.ok and "no new order" in missing.reason                     # ...but the site decides
    nofield = check_field(FieldCondition(source="record:booking", field="date", value="x"), ev)
    assert not nofield.ok and "has no field 'date'" in nofield.reason
    assert check_field(FieldCondition(source="answer", op="contains", value="12C"), ev).ok


def test_specs_are_validated():
    with pytest.raises(ValidationError):
        Spec(conditions=[])
    with pytest.raises(ValidationError):
        FieldCondition(source="the worker's word", field="x", value=1)


def test_judged_conditions_need_a_verifier_and_a_clear_verdict():
    spec = Spec(conditions=[JudgedCondition(text="the confirmation is final")])
    assert not Verifier().verify(spec, Evidence(page_text="Confirmed")).ok          # never on trust
    yes = Verifier(ModelJudge(ScriptedBackend(['Verdict: {"ok": true, "reason": "it says confirmed"}'])))
    v = yes.verify(spec, Evidence(page_text="Confirmed"))
    assert v.ok and v.results[0].how == "verifier model" and v.results[0].reason == "it says confirmed"
    vague = Verifier(ModelJudge(ScriptedBackend(['{"ok": "probably"}'])))
    assert not vague.verify(spec, Evidence()).ok
