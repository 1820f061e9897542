"""Action classes and decisions, from the element as the browser saw it."""
import pytest

from llmos.agent.browser import ElementSafety
from llmos.agent.policy import Policy, classify, host_matches
from llmos.agent.views import (BackAction, ClickAction, Element, NavigateAction, Observation,
                               PolicyConfig, RunCodeAction, ScrollAction, SelectAction, TypeAction)

HERE = "http://shop.test/cart"


def obs(*elements):
    return Observation(url=HERE, elements=list(elements))


def el(index=0, label="OK", role="button", tag="button", **kw):
    return Element(index=index, tag=tag, role=role, label=label, **kw)


@pytest.mark.parametrize("element, safety, expected", [
    (el(label="Buy now"), ElementSafety(), "purchase"),
    (el(label="Place your order"), ElementSafety(), "purchase"),
    (el(label="Pay €12.00"), ElementSafety(), "purchase"),
    (el(label="Checkout", role="link", tag="a", href="http://shop.test/checkout"), ElementSafety(), "purchase"),
    (el(label="Continue"), ElementSafety(submits_form=True, form_has_payment=True), "purchase"),
    (el(label="Sign in"), ElementSafety(), "login"),
    (el(label="Continue"), ElementSafety(submits_form=True, form_has_password=True), "login"),
    (el(label="Add to cart"), ElementSafety(submits_form=True), "submit"),
    (el(label="Next"), ElementSafety(), "submit"),               # an unknown button may commit
    (el(label="Help", role="link", tag="a", href="http://shop.test/help"), ElementSafety(), "navigate"),
    (el(label="Agree", role="checkbox", tag="input", input_type="checkbox"), ElementSafety(), "type"),
    (el(label="Details", role="tab"), ElementSafety(), "read"),
])
def test_click_classes(element, safety, expected):
    cls, _ = classify(ClickAction(element=0), obs(element), {0: safety})
    assert cls.value == expected


@pytest.mark.parametrize("element, safety, action, expected", [
    (el(label="Name", role="textbox", tag="input"), ElementSafety(), TypeAction(element=0, text="Ann"), "type"),
    (el(label="Secret", role="textbox", tag="input", input_type="password"), ElementSafety(),
     TypeAction(element=0, text="x"), "login"),
    (el(label="Number", role="textbox", tag="input"), ElementSafety(field_description="cc-number cardnum"),
     TypeAction(element=0, text="x"), "purchase"),
    (el(label="Search", role="textbox", tag="input", form="search"), ElementSafety(),
     TypeAction(element=0, text="x", press_enter=True), "submit"),
    (el(label="Email", role="textbox", tag="input", form="login"), ElementSafety(form_has_password=True),
     TypeAction(element=0, text="x", press_enter=True), "login"),
    (el(label="Size", role="combobox", tag="select"), ElementSafety(), SelectAction(element=0, option="L"), "type"),
])
def test_typing_classes(element, safety, action, expected):
    assert classify(action, obs(element), {0: safety})[0].value == expected


def test_other_classes_and_targets():
    o = obs(el(label="Away", role="link", tag="a", href="http://evil.test/x"))
    assert classify(NavigateAction(url="/help"), o, {}) [1] == "http://shop.test/help"
    assert classify(ClickAction(element=0), o, {})[1] == "http://evil.test/x"
    assert classify(BackAction(), o, {})[0].value == "navigate"
    assert classify(ScrollAction(), o, {})[0].value == "read"
    assert classify(RunCodeAction(code="1"), o, {})[0].value == "run_code"
    assert classify(ClickAction(element=7), o, {})[0].value == "read"  # no such element: nothing happens


def test_host_matching():
    assert host_matches("shop.test", None, "shop.test")
    assert host_matches("www.shop.test", None, "shop.test")
    assert not host_matches("evilshop.test", None, "shop.test")
    assert host_matches("127.0.0.1", 8000, "127.0.0.1:8000")
    assert not host_matches("127.0.0.1", 9000, "127.0.0.1:8000")
    assert host_matches("anything.example", None, "*")


def test_decisions_rules_domains_and_allowlist():
    link = el(label="Away", role="link", tag="a", href="http://evil.test/x")
    buy = el(index=1, label="Buy now")
    o = obs(link, buy)
    p = Policy(PolicyConfig(), start_url=HERE)
    assert p.check(NavigateAction(url="/a"), o, {}).decision == "allow"
    v = p.check(NavigateAction(url="http://evil.test/"), o, {})
    assert v.decision == "deny" and "evil.test is not on the domain allowlist" in v.reason
    assert p.check(ClickAction(element=0), o, {}).decision == "deny"
    assert p.check(ClickAction(element=1), o, {}).decision == "ask"
    assert p.check(BackAction(), o, {}).decision == "allow"
    strict = Policy(PolicyConfig(rules={"purchase": "deny"}, domains={"shop.test": {"purchase": "allow"}},
                                 allowed_domains=["shop.test", "evil.test"]))
    assert strict.check(ClickAction(element=1), o, {}).decision == "allow"   # the domain rule wins here
    other = obs(buy).model_copy(update={"url": "http://evil.test/"})
    assert strict.check(ClickAction(element=1), other, {}).decision == "deny"
    assert strict.check(ClickAction(element=0), o, {}).decision == "allow"


def test_no_start_url_makes_new_hosts_the_persons_call():
    p = Policy(PolicyConfig())
    start = Observation(url="about:blank")
    assert p.check(NavigateAction(url="http://news.test/"), start, {}).decision == "ask"
    p.approve_host("http://news.test/")
    assert p.check(NavigateAction(url="http://news.test/b"), start, {}).decision == "allow"
    assert p.check(NavigateAction(url="http://other.test/"), start, {}).decision == "ask"
    wildcard = Policy(PolicyConfig(allowed_domains=["*"]))
    assert wildcard.check(NavigateAction(url="http://any.test/"), start, {}).decision == "allow"
