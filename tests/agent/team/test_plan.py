"""Plans: the DAG's order, a model's plan validated, replanning."""
import json

import pytest

from llmos.agent.backends import ScriptedBackend
from llmos.agent.team.plan import ModelPlanner, Plan, PlanError, RulePlanner, Subtask
from llmos.agent.team.spec import FieldCondition, Spec

SPEC = Spec(conditions=[FieldCondition(source="answer", op="contains", value="ok")])


def test_order_respects_dependencies():
    plan = Plan(task="t", subtasks=[Subtask(id="c", instruction="c", after=["a", "b"], spec=SPEC),
                                    Subtask(id="a", instruction="a", spec=SPEC),
                                    Subtask(id="b", instruction="b", after=["a"], spec=SPEC)])
    assert plan.order() == ["a", "b", "c"]


def test_a_models_plan_is_parsed_and_validated():
    good = {"task": "trip", "subtasks": [
        {"id": "flight", "instruction": "book", "spec": {"conditions": [
            {"kind": "field", "source": "answer", "op": "contains", "value": "booked"}]}},
        {"id": "hotel", "instruction": "reserve", "after": ["flight"],
         "spec": {"conditions": [{"kind": "judged", "text": "a room is reserved"}]}}]}
    backend = ScriptedBackend(["Here is the plan: " + json.dumps(good)])
    plan = ModelPlanner(backend).plan("plan my trip")
    assert [s.id for s in plan.subtasks] == ["flight", "hotel"] and plan.get("hotel").after == ["flight"]
    assert "plan my trip" in backend.calls[0].messages[0].content
    with pytest.raises(PlanError, match="no JSON plan"):
        ModelPlanner(ScriptedBackend(["I would book a flight"])).plan("t")
    cyclic = {**good, "subtasks": [{**good["subtasks"][0], "after": ["hotel"]}, good["subtasks"][1]]}
    with pytest.raises(PlanError, match="cycle"):
        ModelPlanner(ScriptedBackend([json.dumps(cyclic)])).plan("t")


def test_replanning():
    sub = Subtask(id="a", instruction="book the flight", spec=SPEC)
    text = RulePlanner().replan(sub, ["date is wrong", "date is wrong", "seat is wrong"])
    assert text.startswith("book the flight\nLessons so far:") and text.count("date is wrong") == 1
    model = ModelPlanner(ScriptedBackend(["Book the flight on 2025-06-12, aisle seat."]))
    assert model.replan(sub, ["date is wrong"]) == "Book the flight on 2025-06-12, aisle seat."
