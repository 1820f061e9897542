"""Reading model replies as actions: repairs that work, errors that explain."""
import pytest

from llmos.agent.parsing import ActionParseError, parse_reply


@pytest.mark.parametrize("reply, expected", [
    ('{"type": "click", "element": 3}', {"type": "click", "element": 3}),
    ('Sure!\n```json\n{"type": "click", "element": 3}\n```\nDone.', {"type": "click", "element": 3}),
    ('{"type": "click", "index": "3",}', {"type": "click", "element": 3}),
    ('{"action": {"type": "back"}, "thought": "oops"}', {"type": "back", "thought": "oops"}),
    ('{"navigate": {"url": "http://a/{x}"}}', {"type": "navigate", "url": "http://a/{x}"}),
    ('{"action": "scroll", "direction": "up"}', {"type": "scroll", "direction": "up"}),
    ("{'type': 'back'}", {"type": "back"}),
    ('{"type": "done", "answer": "it said \\"{hi}\\"", "success": False}',
     {"type": "done", "answer": 'it said "{hi}"', "success": False}),
    ('First {"note": 1} then {"type": "DONE"}', {"type": "done"}),
])
def test_replies_are_repaired_into_actions(reply, expected):
    action = parse_reply(reply)
    assert action.model_dump(exclude_defaults=True) | {"type": action.type} == expected


@pytest.mark.parametrize("reply, message", [
    ("I will click the button", "no JSON object"),
    ('{"type": "fly"}', "not a valid action"),
    ('{"type": "click"}', "click.element: Field required"),
    ('{"type": "click", "element": 1', "no JSON object"),
])
def test_unreadable_replies_explain_what_to_fix(reply, message):
    with pytest.raises(ActionParseError, match=message):
        parse_reply(reply)


def test_memory_update_keeps_its_id():
    """`id` is a common alias of `element`, but memory_update's own field is the memory's id."""
    from llmos.agent.parsing import parse_reply
    action = parse_reply('{"type": "memory_update", "id": 4, "text": "new"}')
    assert action.type == "memory_update" and action.id == 4
    assert parse_reply('{"type": "click", "id": 4}').element == 4
