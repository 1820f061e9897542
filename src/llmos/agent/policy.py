"""The safety policy: what class an action is, and whether it may happen.

Classification looks at the element the action touches, as the browser saw
it (role, label, input type, the form around it), never at what the page's
text says about itself. When in doubt it picks the more dangerous class:
a button labelled "Buy" is a purchase whatever form it is in; any submit of
a form with a password field is a login; any submit of a form with card
fields is a purchase.

The decision combines the person's rule for the class, a per-domain override
for the host the action lands on, and the domain allowlist. The policy is
fixed when the session is created (`SessionOptions.policy`); nothing the page
or the model says reaches it.
"""
from __future__ import annotations

import re
from urllib.parse import urljoin, urlparse

from llmos.agent.browser import ElementSafety
from llmos.agent.views import (ActionClass, BackAction, ClickAction, Decision, Element,
                               NavigateAction, Observation, PolicyConfig, PolicyVerdict,
                               RunCodeAction, SelectAction, ToolAction, TypeAction)

_words = lambda *ws: re.compile(r"\b(" + "|".join(ws) + r")\b", re.I)  # noqa: E731
PURCHASE_WORDS = _words(
    r"buy", r"buy now", r"pay", r"pay now", r"purchase", r"place (your )?order", r"order now",
    r"check ?out", r"complete (the )?(order|purchase|booking|payment)", r"confirm (order|purchase|booking|payment)",
    r"book now", r"book (this|the)? ?(flight|room|seat|ticket)", r"reserve", r"subscribe", r"donate",
    r"checkout", r"proceed to payment", r"submit (order|payment)")
LOGIN_WORDS = _words(r"log ?in", r"sign ?in", r"sign on", r"authenticate", r"password", r"passcode",
                     r"pin")
PASSWORD_FIELD = re.compile(r"(password|passcode|passwd|\bpin\b|current-password|new-password|otp|one-time)", re.I)
PAYMENT_FIELD = re.compile(r"(card|cc-|cvv|cvc|csc|expir|security code|iban|account number)", re.I)
SUBMIT_WORDS = _words(r"submit", r"send", r"save", r"delete", r"remove", r"confirm", r"apply", r"register",
                      r"sign ?up", r"post", r"publish", r"cancel (my )?(order|booking|account)")

_ORDER = {Decision.ALLOW: 0, Decision.ASK: 1, Decision.DENY: 2}


def strictest(*decisions: Decision) -> Decision:
    return max(decisions, key=_ORDER.__getitem__)


def host_of(url: str) -> str:
    return (urlparse(url).hostname or "").lower()


def host_matches(host: str, port: int | None, entry: str) -> bool:
    """`entry` matches the host itself and its subdomains; `host:port` pins a port."""
    entry = entry.lower().strip()
    if entry == "*":
        return True
    name, _, want_port = entry.partition(":")
    if want_port and str(port) != want_port:
        return False
    return host == name or host.endswith("." + name)


def _element_class(el: Element, safety: ElementSafety, for_typing: bool) -> ActionClass:
    label = el.label
    if for_typing:
        if el.input_type == "password" or PASSWORD_FIELD.search(safety.field_description + " " + label):
            return ActionClass.LOGIN
        if PAYMENT_FIELD.search(safety.field_description + " " + label):
            return ActionClass.PURCHASE
        return ActionClass.TYPE
    if PURCHASE_WORDS.search(label) or (safety.submits_form and safety.form_has_payment):
        return ActionClass.PURCHASE
    if LOGIN_WORDS.search(label) or (safety.submits_form and safety.form_has_password):
        return ActionClass.LOGIN
    if el.role in ("checkbox", "radio", "switch", "option", "slider", "spinbutton"):
        return ActionClass.TYPE
    if el.role in ("tab", "treeitem") or el.tag == "summary":
        return ActionClass.READ
    if el.role == "link" and el.href and not SUBMIT_WORDS.search(label):
        return ActionClass.NAVIGATE
    # Any other button may commit something (a JS handler, a form): treat it as a submit.
    return ActionClass.SUBMIT


def classify(action, observation: Observation, safety: dict[int, ElementSafety]
             ) -> tuple[ActionClass, str]:
    """(class, target URL) of an action taken on `observation`'s page."""
    here = observation.url
    if isinstance(action, NavigateAction):
        return ActionClass.NAVIGATE, urljoin(here, action.url) if here else action.url
    if isinstance(action, BackAction):  # to a page already visited under this policy
        return ActionClass.NAVIGATE, ""
    if isinstance(action, RunCodeAction):
        return ActionClass.RUN_CODE, here
    if isinstance(action, (ClickAction, TypeAction, SelectAction)):
        el = observation.element(action.element)
        if el is None:  # the browser will refuse it; nothing happens, so it is a read
            return ActionClass.READ, here
        facts = safety.get(action.element, ElementSafety())
        if isinstance(action, ClickAction):
            cls = _element_class(el, facts, for_typing=False)
            return cls, (el.href if el.role == "link" and el.href else here)
        if isinstance(action, SelectAction):
            return strictest_class(ActionClass.TYPE, _element_class(el, facts, True)), here
        cls = _element_class(el, facts, for_typing=True)
        if action.press_enter and el.form:  # Enter in a form submits it
            submit = ElementSafety(True, facts.form_has_password, facts.form_has_payment)
            cls = strictest_class(cls, _element_class(el.model_copy(update={"role": "button"}),
                                                      submit, for_typing=False))
        return cls, here
    return ActionClass.READ, here   # scroll, extract, done, ask_user


_DANGER = [ActionClass.READ, ActionClass.NAVIGATE, ActionClass.TYPE, ActionClass.SUBMIT,
           ActionClass.RUN_CODE, ActionClass.LOGIN, ActionClass.PURCHASE]


def strictest_class(*classes: ActionClass) -> ActionClass:
    return max(classes, key=_DANGER.index)


class Policy:
    """A person's `PolicyConfig` applied to one session."""

    def __init__(self, config: PolicyConfig, start_url: str | None = None):
        self.config = config
        if config.allowed_domains is not None:
            self.allowed = list(config.allowed_domains)
        else:
            self.allowed = [host_of(start_url)] if start_url and host_of(start_url) else []
        # With no allowlist and no start URL, a new host is the person's call.
        self.off_allowlist = config.off_allowlist if self.allowed or config.allowed_domains is not None \
            else Decision.ASK

    def allows_host(self, url: str) -> bool:
        p = urlparse(url)
        if p.scheme in ("about", "data") or not p.hostname:
            return p.scheme == "about"
        return any(host_matches(p.hostname.lower(), p.port, e) for e in self.allowed)

    def approve_host(self, url: str) -> None:
        """The person approved going to this host: it joins the session's allowlist."""
        host = host_of(url)
        if host and not self.allows_host(url):
            self.allowed.append(host)

    def _rule(self, cls: ActionClass, url: str) -> Decision:
        p = urlparse(url)
        for entry, rules in self.config.domains.items():
            if p.hostname and host_matches(p.hostname.lower(), p.port, entry) and cls in rules:
                return rules[cls]
        return self.config.rules.get(cls, Decision.ASK)

    def check(self, action, observation: Observation, safety: dict[int, ElementSafety]
              ) -> PolicyVerdict:
        if isinstance(action, ToolAction):  # each mounted tool is its own class, asked by default
            decision = self.config.tools.get(action.name, Decision.ASK)
            return PolicyVerdict(action_class=ActionClass.TOOL, decision=decision,
                                 reason=f"tool {action.name} is '{decision.value}'")
        cls, target = classify(action, observation, safety)
        decision = self._rule(cls, target)
        reason = f"{cls.value} is '{decision.value}'"
        if cls is ActionClass.NAVIGATE or target != observation.url:
            if target and not self.allows_host(target):
                decision = strictest(decision, self.off_allowlist)
                reason = f"{host_of(target) or target} is not on the domain allowlist " \
                         f"({', '.join(self.allowed) or 'empty'}): '{self.off_allowlist.value}'"
        elif cls is not ActionClass.READ and observation.url and not self.allows_host(observation.url):
            decision = strictest(decision, self.off_allowlist)
            reason = f"this page's host {host_of(observation.url)} is not on the domain allowlist"
        return PolicyVerdict(action_class=cls, decision=decision, reason=reason)
