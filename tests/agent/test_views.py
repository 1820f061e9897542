"""The agent's data types: action variants, validation, fingerprints."""
import pytest
from pydantic import ValidationError

from llmos.agent.views import (ClickAction, Element, Observation, SessionOptions, StepResult,
                               UserCommand, parse_action)


def test_every_action_variant_round_trips_through_json():
    samples = [{"type": "click", "element": 2}, {"type": "type", "element": 0, "text": "hi", "press_enter": True},
               {"type": "select", "element": 1, "option": "Large"}, {"type": "scroll", "direction": "up", "pages": 2},
               {"type": "navigate", "url": "http://x/"}, {"type": "back"}, {"type": "extract", "query": "price"},
               {"type": "done", "answer": "42", "success": False}, {"type": "ask_user", "question": "which?"},
               {"type": "run_code", "code": "print(1)"}]
    for sample in samples:
        action = parse_action(sample)
        assert action.type == sample["type"]
        assert parse_action(action.model_dump_json()) == action


@pytest.mark.parametrize("bad", [{"type": "click"}, {"type": "click", "element": -1},
                                 {"type": "teleport"}, {"type": "click", "element": 1, "extra": 1},
                                 {"type": "scroll", "pages": 0}, {"type": "navigate", "url": ""}])
def test_invalid_actions_are_rejected(bad):
    with pytest.raises(ValidationError):
        parse_action(bad)


def test_action_key_ignores_the_thought_but_not_the_target():
    a = ClickAction(element=1, thought="because")
    assert a.key() == ClickAction(element=1, thought="other").key()
    assert a.key() != ClickAction(element=2).key()


def test_observation_fingerprint_tracks_values_and_text():
    el = Element(index=0, tag="input", role="textbox", label="Name")
    obs = Observation(url="http://a/", elements=[el], text="hello")
    assert obs.fingerprint() == Observation(url="http://a/", elements=[el], text="hello").fingerprint()
    typed = Observation(url="http://a/", elements=[el.model_copy(update={"value": "x"})], text="hello")
    assert typed.fingerprint() != obs.fingerprint()
    assert obs.element(0) is el and obs.element(5) is None


def test_options_and_commands_validate():
    assert SessionOptions().policy.rules["purchase"] == "ask"
    with pytest.raises(ValidationError):
        SessionOptions(max_steps=0)
    with pytest.raises(ValidationError):
        SessionOptions(policy={"rules": {"purchase": "maybe"}})
    cmd = UserCommand(kind="edit", action={"type": "back"})
    assert cmd.action.type == "back"
    with pytest.raises(ValidationError):
        UserCommand(kind="delete")
    r = StepResult(session_id="s", step=1, status="DONE", message="ok")
    assert StepResult.model_validate_json(r.model_dump_json()) == r
