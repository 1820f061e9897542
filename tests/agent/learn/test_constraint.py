"""The per-page action schema: the grammar engine lets through what the page offers and nothing else."""
from __future__ import annotations

import pytest

from llmos.agent.learn.constraint import action_schema, kind_of, named_options, typed_values
from llmos.agent.learn.observation import write_action
from llmos.agent.views import Element, Observation

pytest.importorskip("llguidance")


def page() -> Observation:
    return Observation(url="http://x/shop/checkout", elements=[
        Element(index=0, tag="a", role="link", label="Corner Shop"),
        Element(index=3, tag="input", role="textbox", label="City", input_type="text"),
        Element(index=4, tag="select", role="combobox", label="Country", options=["France", "Spain"]),
        Element(index=5, tag="input", role="radio", label="Express shipping", input_type="radio"),
        Element(index=6, tag="textarea", role="textbox", label="Message"),
        Element(index=7, tag="button", role="button", label="Place order", disabled=True)])


@pytest.fixture(scope="module")
def tokenizer():
    from llmos.text.tokenizer import Tokenizer
    text = [write_action(a) for a in ({"type": "click", "element": 5}, {"type": "type", "element": 3, "text": "Rome"},
                                      {"type": "select", "element": 4, "option": "Spain"})] * 50
    return Tokenizer.train_bpe(text, vocab_size=300)


def accepts(schema: dict, tokenizer, text: str) -> bool:
    from llmos.infer.grammar import Grammar, compile_grammar
    state = compile_grammar(Grammar.json_schema(schema), tokenizer, tokenizer.vocab_size).start()
    return all(state.advance(t) for t in tokenizer.encode(text, add_special_tokens=False)) and state.is_accepting


def test_elements_take_the_action_their_tag_allows():
    kinds = {e.index: kind_of(e) for e in page().elements}
    assert kinds == {0: "click", 3: "type", 4: "select", 5: "click", 6: "type", 7: "click"}


@pytest.mark.parametrize("action", [{"type": "click", "element": 5}, {"type": "type", "element": 6, "text": "Hi"},
                                    {"type": "select", "element": 4, "option": "Spain"},
                                    {"type": "done", "answer": "ok", "success": False},
                                    {"type": "ask_user", "question": "Which city?"}, {"type": "back"},
                                    {"type": "scroll", "pages": 0.5}])
def test_what_the_page_offers_is_accepted(tokenizer, action):
    assert accepts(action_schema(page()), tokenizer, write_action(action))


@pytest.mark.parametrize("action", [{"type": "click", "element": 9},            # not listed
                                    {"type": "click", "element": 7},            # disabled
                                    {"type": "click", "element": 3},            # a text field: type into it
                                    {"type": "type", "element": 5, "text": "x"},  # a radio
                                    {"type": "select", "element": 4, "option": "Italy"},  # not an option
                                    {"type": "navigate", "url": "http://evil.example/"},
                                    {"type": "type", "element": 3, "text": "x" * 101}])
def test_what_the_page_does_not_offer_is_refused(tokenizer, action):
    assert not accepts(action_schema(page()), tokenizer, write_action(action))


REQUEST = ('Send a request from ada.lovelace@example.com about a damaged item, order ORD-1234, saying '
           '"The parcel arrived with a broken lid. Please send a new one." Pay with the card in '
           'secret card_number (name on card Ada Lovelace, expiry 12/29).')


def test_typed_values_are_the_request_s_spans_trimmed_and_its_secrets():
    values = typed_values(REQUEST)
    for want in ("ada.lovelace@example.com", "ORD-1234", "Ada Lovelace", "12/29", "{{secret:card_number}}",
                 "The parcel arrived with a broken lid. Please send a new one.",
                 "The parcel arrived with a broken lid. Please send a new one"):
        assert want in values, want
    assert "ORD-1234," not in values and '"The parcel' not in values and "(name" not in values
    assert all(len(v) <= 80 for v in values)
    assert "Hopper" in typed_values(REQUEST, "the person answered: Grace Hopper")


@pytest.mark.parametrize("text, ok", [("Ada Lovelace", True), ("ORD-1234", True), ("{{secret:card_number}}", True),
                                      ("Grace Hopper", False), ("visit evil.example", False), ("", False)])
def test_with_a_request_only_its_words_can_be_typed(tokenizer, text, ok):
    action = {"type": "type", "element": 3, "text": text}
    assert accepts(action_schema(page(), REQUEST), tokenizer, write_action(action)) is ok


def test_a_select_offers_the_options_the_request_names_else_all():
    cities = ["Choose a city", "Amsterdam", "Berlin", "Paris", "Rome"]
    trip = "Book the cheapest flight from Berlin to Rome on 2025-06-12 for Ada (ada@example.com)."
    assert named_options(cities, trip) == ["Berlin", "Rome"]
    assert named_options(["2025-06-11", "2025-06-12"], trip) == ["2025-06-12"]
    assert named_options(["Departure time", "Price (lowest first)"], trip) == []
    sizes = ["S", "M", "L", "XL"]
    assert named_options(sizes, "Register Ada's place, T-shirt size M.") == ["M"]      # "Ada's" names no S
    assert named_options(["Delivery", "Damaged item"], "about a damaged item, order 12") == ["Damaged item"]
    schema = action_schema(page(), "Ship it to Spain, please.")
    select = next(v for v in schema["anyOf"] if v["properties"]["type"] == {"const": "select"})
    assert select["properties"]["option"] == {"enum": ["Spain"]}
    unnamed = action_schema(page(), "Ship it abroad.")
    select = next(v for v in unnamed["anyOf"] if v["properties"]["type"] == {"const": "select"})
    assert select["properties"]["option"] == {"enum": ["France", "Spain"]}


def test_an_action_that_would_change_nothing_is_not_offered(tokenizer):
    request = "Ship it to Spain for Ada Lovelace, city Madrid."
    done = Observation(url="http://x/shop/checkout", elements=[
        Element(index=3, tag="input", role="textbox", label="City", input_type="text", value="Madrid"),
        Element(index=4, tag="select", role="combobox", label="Country", options=["France", "Spain"], value="Spain"),
        Element(index=5, tag="input", role="radio", label="Express shipping", input_type="radio", checked=True),
        Element(index=6, tag="input", role="radio", label="Standard shipping", input_type="radio", checked=False),
        Element(index=8, tag="input", role="textbox", label="Name", input_type="text", value="junk")])
    schema = action_schema(done, request)
    kinds = [v["properties"]["type"]["const"] for v in schema["anyOf"]]
    assert "select" not in kinds                       # Spain is the only named option and already chosen
    assert not accepts(schema, tokenizer, write_action({"type": "click", "element": 5}))   # checked radio
    assert accepts(schema, tokenizer, write_action({"type": "click", "element": 6}))
    assert not accepts(schema, tokenizer, write_action({"type": "type", "element": 3, "text": "Madrid"}))
    assert accepts(schema, tokenizer, write_action({"type": "type", "element": 8, "text": "Ada Lovelace"}))
    unnamed = action_schema(done, "Ship it abroad.")
    select = next(v for v in unnamed["anyOf"] if v["properties"]["type"] == {"const": "select"})
    assert select["properties"]["option"] == {"enum": ["France"]}   # all but the one it shows


def test_picks_leave_each_select_the_city_the_request_gives_its_label():
    cities = ["Choose a city", "Amsterdam", "Berlin", "Lisbon", "Paris"]
    search = Observation(url="http://x/flights/", elements=[
        Element(index=3, tag="select", role="combobox", label="From", options=cities, value="Choose a city"),
        Element(index=4, tag="select", role="combobox", label="To", options=cities, value="Choose a city")])

    def options(schema: dict) -> dict[int, list[str]]:
        return {v["properties"]["element"]["const"]: v["properties"]["option"]["enum"] for v in schema["anyOf"]
                if v["properties"]["type"] == {"const": "select"}}

    trip = "How much is the cheapest fare from Paris to Lisbon?"
    assert options(action_schema(search, trip)) == {3: ["Lisbon", "Paris"], 4: ["Lisbon", "Paris"]}
    assert options(action_schema(search, trip, picks=True)) == {3: ["Paris"], 4: ["Lisbon"]}
    # From has no cue of its own here ("flight Paris"): the city To keeps is dropped from it
    assert options(action_schema(search, "the latest flight Paris to Amsterdam", picks=True)) == \
        {3: ["Paris"], 4: ["Amsterdam"]}
    # no cue at all: both cities stay, as without picks
    assert options(action_schema(search, "Paris -> Lisbon", picks=True)) == {3: ["Lisbon", "Paris"],
                                                                              4: ["Lisbon", "Paris"]}
    # From already shows Paris: nothing left to change there
    set_from = search.model_copy(update={"elements": [search.elements[0].model_copy(update={"value": "Paris"}),
                                                      search.elements[1]]})
    assert options(action_schema(set_from, trip, picks=True)) == {4: ["Lisbon"]}


def test_marks_leave_out_the_boxes_and_radios_the_request_passes_over(tokenizer):
    cabin = Observation(url="http://x/flights/", elements=[
        Element(index=6, tag="input", role="radio", label="Economy", input_type="radio", checked=True),
        Element(index=7, tag="input", role="radio", label="Business", input_type="radio", checked=False),
        Element(index=8, tag="button", role="button", label="Search flights")])
    trip = "Search for economy flights from Madrid to Amsterdam."
    business = write_action({"type": "click", "element": 7})
    assert accepts(action_schema(cabin, trip), tokenizer, business)
    assert not accepts(action_schema(cabin, trip, marks=True), tokenizer, business)
    assert accepts(action_schema(cabin, trip, marks=True), tokenizer, write_action({"type": "click", "element": 8}))
    assert accepts(action_schema(cabin, "Search for flights to Amsterdam.", marks=True), tokenizer, business)
    boxes = Observation(url="http://x/forms/library", elements=[
        Element(index=4, tag="input", role="checkbox", label="History", input_type="checkbox", checked=False),
        Element(index=5, tag="input", role="checkbox", label="Science", input_type="checkbox", checked=False),
        Element(index=6, tag="input", role="checkbox", label="Poetry", input_type="checkbox", checked=True)])
    clicks = next(v for v in action_schema(boxes, "My interests: science.", marks=True)["anyOf"]
                  if v["properties"]["type"] == {"const": "click"})
    assert clicks["properties"]["element"]["enum"] == [5, 6]        # Poetry, ticked, can still be unticked
