"""The compact observation: every listed element with what it holds, nothing repeated, the task last."""
from __future__ import annotations

import json

from llmos.agent.learn.observation import render, write_action
from llmos.agent.views import (ClickAction, Element, HistoryItem, Observation, StepContext, TypeAction,
                               parse_action)


def page() -> Observation:
    return Observation(
        url="http://127.0.0.1:41234/flights/booking/BK1001/passenger", title="Passenger details",
        elements=[Element(index=0, tag="a", role="link", label="SkyLark Air", href="http://127.0.0.1:41234/flights/"),
                  Element(index=3, tag="input", role="textbox", label="First name", value="Ada", input_type="text"),
                  Element(index=4, tag="select", role="combobox", label="Meal", value="Vegan",
                          options=["No preference", "Vegan"]),
                  Element(index=5, tag="input", role="radio", label="Seat 10A, window", checked=True),
                  Element(index=6, tag="input", role="checkbox", label="Newsletter", checked=False),
                  Element(index=7, tag="button", role="button", label="Continue", disabled=True)],
        text="SkyLark Air\nPassenger details\nFirst name\nFlight SL107: Lisbon to Paris, departs 09:15\nVegan")


def test_render_lists_every_element_with_its_state_and_keeps_only_new_page_text():
    ctx = StepContext(task="Book it for Ada Lovelace", step=3, observation=page(),
                      history=[HistoryItem(step=1, action=ClickAction(element=2), outcome="clicked"),
                               HistoryItem(step=2, action=TypeAction(element=3, text="Ada"), outcome="typed"),
                               HistoryItem(step=3, action=ClickAction(element=9),
                                           outcome="error: there is no element 9")])
    text = render(ctx)
    lines = text.splitlines()
    assert lines[0] == "page: /flights/booking/BK1001/passenger | Passenger details"
    assert lines[1] == 'done: click 2; type 3 "Ada"; click 9 (error: there is no element 9)'
    assert '3 textbox First name ="Ada"' in lines
    assert '4 combobox Meal ="Vegan" <No preference|Vegan>' in lines
    assert "5 radio Seat 10A, window [x]" in lines and "6 checkbox Newsletter [ ]" in lines
    assert "7 button Continue disabled" in lines
    # the host and port say nothing the policy can use; element labels are not repeated as text
    assert "127.0.0.1" not in text
    assert lines[-3] == "text: Passenger details / Flight SL107: Lisbon to Paris, departs 09:15"
    assert lines[-2] == "task: Book it for Ada Lovelace"     # last: the values an action copies are near it
    assert lines[-1] == "action:"


def test_render_keeps_only_the_last_note_and_the_last_four_actions():
    history = [HistoryItem(step=i, action=ClickAction(element=i), outcome="clicked") for i in range(1, 7)]
    text = render(StepContext(task="t", step=7, observation=page(), history=history,
                              notes=["old note", "loop detected: change approach"]))
    assert "done: click 3; click 4; click 5; click 6" in text
    assert "note: loop detected: change approach" in text and "old note" not in text


def test_write_action_is_one_json_line_with_the_type_first_that_the_agent_parses_back():
    for action in ({"type": "type", "element": 3, "text": "Ada \"A\" Lovelace"}, {"type": "click", "element": 0},
                   {"type": "done", "answer": "16:55", "success": False}):
        line = write_action({**action, "thought": "never shown"})
        assert "\n" not in line and "thought" not in line
        assert line.startswith('{"type": ')                        # json.dumps's separators, as the grammar
        assert json.loads(line) == action
        assert parse_action(line).model_dump(exclude={"thought"}, exclude_defaults=True) | {"type": action["type"]} \
            == action


def test_marks_star_the_boxes_and_radios_the_request_names_leaving_out_shared_words():
    from llmos.agent.learn.observation import named_elements
    seats = [Element(index=i, tag="input", role="radio", label=f"Seat 10{c}, {kind}", checked=False)
             for i, (c, kind) in enumerate([("A", "window"), ("B", "middle"), ("C", "aisle")], start=3)]
    boxes = [Element(index=8, tag="input", role="checkbox", label="Vegetarian", checked=False),
             Element(index=9, tag="input", role="checkbox", label="Send me the monthly newsletter", checked=False)]
    task = "Book it with a window seat and a vegetarian meal."
    assert named_elements(seats + boxes, task) == {3, 8}             # "seat" is on every seat: not a sign
    assert named_elements(seats + boxes, "Book it.", "the person answered: aisle") == {5}
    ctx = StepContext(task=task, step=1, observation=Observation(url="http://x/seats", elements=seats + boxes))
    marked = render(ctx, marks=True).splitlines()
    assert "3 radio Seat 10A, window [ ] *" in marked and "4 radio Seat 10B, middle [ ]" in marked
    assert "8 checkbox Vegetarian [ ] *" in marked and "9 checkbox Send me the monthly newsletter [ ]" in marked
    assert " *" not in render(ctx)                                    # the plain format, as older policies saw it


def test_cues_give_each_option_the_request_names_the_word_before_it():
    from llmos.agent.learn.observation import option_cues
    cities = ["Amsterdam", "Berlin", "Lisbon", "Paris"]
    assert option_cues(cities + ["2025-06-12"], "Search flights from Lisbon to Berlin on 2025-06-12.") == \
        {"Lisbon": "from", "Berlin": "to", "2025-06-12": "on"}
    assert option_cues(cities, "the latest flight Paris to Amsterdam") == {"Paris": "flight", "Amsterdam": "to"}
    assert option_cues(cities, "flight SL205 (Lisbon to Paris)") == {"Paris": "to"}      # after a bracket: none
    assert option_cues(["A", "Rome"], "seat A in rome") == {"Rome": "in"}              # 1-2 letter options: none
    select = Element(index=4, tag="select", role="combobox", label="To", value="Choose a city", options=cities)
    ctx = StepContext(task="Book a flight from Lisbon to Berlin.", step=2,
                      observation=Observation(url="http://x/flights/", elements=[select]))
    assert '4 combobox To ="Choose a city" <Amsterdam|Berlin ~to|Lisbon ~from|Paris>' in render(ctx, cues=True)
    assert "~" not in render(ctx)                                     # the plain format, as older policies saw it
    # the person's answer names options too
    answered = ctx.model_copy(update={"task": "Book a flight.", "notes": ["the person answered: to Paris"]})
    assert "Paris ~to" in render(answered, cues=True)


def test_picks_star_the_option_whose_cue_is_a_word_of_its_selects_label():
    from llmos.agent.learn.observation import picked_options
    assert picked_options("From", {"Lisbon": "from", "Berlin": "to"}) == {"Lisbon"}
    assert picked_options("To", {"Lisbon": "from", "Berlin": "to"}) == {"Berlin"}     # "to", a stop word, counts
    assert picked_options("Date", {"2025-06-12": "on"}) == set()
    cities = ["Berlin", "Lisbon", "Paris"]
    origin = Element(index=3, tag="select", role="combobox", label="From", value="Choose a city", options=cities)
    dest = Element(index=4, tag="select", role="combobox", label="To", value="Choose a city", options=cities)
    ctx = StepContext(task="Book a flight from Lisbon to Berlin.", step=1,
                      observation=Observation(url="http://x/flights/", elements=[origin, dest]))
    lines = render(ctx, cues=True, picks=True).splitlines()
    assert '3 combobox From ="Choose a city" <Berlin ~to|Lisbon ~from *|Paris>' in lines
    assert '4 combobox To ="Choose a city" <Berlin ~to *|Lisbon ~from|Paris>' in lines
    assert '<Berlin|Lisbon *|Paris>' in render(ctx, picks=True)          # picks alone: the star, no cue words
    assert "*" not in render(ctx, cues=True)                              # cues alone: no star, as older policies saw
    swapped = ctx.model_copy(update={"task": "Book the latest flight Paris to Lisbon."})
    assert '<Berlin|Lisbon ~to|Paris ~flight>' in render(swapped, cues=True, picks=True).splitlines()[1]
    assert '<Berlin|Lisbon ~to *|Paris ~flight>' in render(swapped, cues=True, picks=True).splitlines()[2]
