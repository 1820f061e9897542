"""Prompts rendered from the template files."""
from llmos.agent.prompting import build_messages, retry_messages
from llmos.agent.views import (ClickAction, Element, HistoryItem, Observation, StepContext)


def context(**kw):
    obs = Observation(url="http://shop.test/", title="Shop", text="Socks 12 EUR", pixels_below=400, elements=[
        Element(index=0, tag="input", role="textbox", label="Name", value="Ann", form="order"),
        Element(index=1, tag="select", role="combobox", label="Size", value="S", options=["S", "M"]),
        Element(index=2, tag="input", role="checkbox", label="Gift", input_type="checkbox", checked=False),
        Element(index=3, tag="a", role="link", label="Help", href="http://shop.test/help"),
        Element(index=4, tag="button", role="button", label="Pay", disabled=True)])
    base = dict(task="buy socks", step=2, observation=obs,
                history=[HistoryItem(step=1, action=ClickAction(element=9, thought="t"), outcome="clicked 'X'")])
    return StepContext(**{**base, **kw})


def test_step_prompt_lists_task_history_elements_and_page_text():
    system, user = build_messages(context(notes=["the person said: blue"]))
    assert system.role == "system" and '{"type": "click", "element": N}' in system.content
    text = user.content
    assert text.startswith("TASK: buy socks")
    assert '1. {"type":"click","element":9} -> clicked \'X\'' in text
    assert "- the person said: blue" in text
    assert '[0] textbox "Name" value="Ann" [form order]' in text
    assert '[1] combobox "Size" value="S" options=["S", "M"]' in text
    assert '[2] checkbox "Gift" unchecked' in text
    assert '[3] link "Help" -> http://shop.test/help' in text
    assert '[4] button "Pay" disabled' in text
    assert "400 pixels below" in text and "<<<\nSocks 12 EUR\n>>>" in text
    assert "thought" not in text


def test_secret_names_appear_as_placeholders_only_when_given():
    system, _ = build_messages(context(secret_names=["card_number", "card_cvc"]))
    assert "{{secret:card_number}}, {{secret:card_cvc}}" in system.content
    system, _ = build_messages(context())
    assert "secret:" not in system.content


def test_empty_page_and_retry_messages():
    ctx = context(observation=Observation(), history=[])
    msgs = build_messages(ctx)
    assert "(no page yet: use navigate)" in msgs[1].content and "(none)" in msgs[1].content
    more = retry_messages(msgs, "hmm", "no JSON object")
    assert [m.role for m in more] == ["system", "user", "assistant", "user"]
    assert "no JSON object" in more[-1].content
