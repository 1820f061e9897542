"""A real Chromium, driven by Playwright, seen as a numbered list of elements.

`Browser` owns one headless Chromium process; each session gets a `Tab` (its
own browser context: cookies and storage are not shared). A `Tab` observes the
page by running `distill.js` inside it, which numbers every visible interactive
element with a `data-llmos-id` attribute, and acts on those numbers.

Stale numbers: between an observation and the action the model chose from it,
the page may have changed (a timer, a re-render). Every action first asks the
page for the element's fingerprint now (tag, role, label, name, href, form)
and compares it with the one observed; a missing, duplicated or different
element raises `StaleElementError` and nothing is done. A wrong click is worse
than a wasted step.

Playwright's sync API is bound to the thread that started it; `Agent` runs
all browser work on one thread of its own.
"""
from __future__ import annotations

import base64
import os
from dataclasses import dataclass, field
from importlib import resources
from urllib.parse import urlparse

from llmos.agent.views import Element, Observation
from llmos.config import require, require_at_least

# Debian's Chromium, in a fresh profile, quiet: no background traffic, no updates.
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--no-first-run"]


class BrowserError(RuntimeError):
    """An action could not be done on this page (the message says why)."""


class StaleElementError(BrowserError):
    """The element number no longer names what the observation showed."""


@dataclass
class BrowserConfig:
    executable: str = "/usr/bin/chromium"
    headless: bool = True
    viewport_width: int = 1280
    viewport_height: int = 800
    action_timeout_s: float = 5.0
    navigation_timeout_s: float = 15.0
    max_elements: int = 150      # elements listed per observation
    max_text: int = 1500         # characters of page text in an observation
    max_extract: int = 6000      # characters `extract` may return

    def __post_init__(self) -> None:
        require_at_least(self, 1, "viewport_width", "viewport_height", "max_elements", "max_text", "max_extract")
        for name in ("action_timeout_s", "navigation_timeout_s"):
            require(getattr(self, name) > 0, name, "> 0", getattr(self, name))


@dataclass
class ElementSafety:
    """What the policy classifies an element by; the model never sees this."""

    submits_form: bool = False
    form_has_password: bool = False
    form_has_payment: bool = False
    field_description: str = ""


@dataclass
class Snapshot:
    """An observation plus what only the agent keeps: fingerprints and safety facts."""

    observation: Observation
    fingerprints: dict[int, str] = field(default_factory=dict)
    safety: dict[int, ElementSafety] = field(default_factory=dict)
    full_text: str = ""


def _distill_js() -> str:
    return resources.files("llmos.agent").joinpath("distill.js").read_text()


class Browser:
    """One headless Chromium process shared by every session's `Tab`."""

    def __init__(self, config: BrowserConfig | None = None):
        self.config = config or BrowserConfig()
        self._pw = None
        self._browser = None
        self._js = _distill_js()

    def start(self) -> Browser:
        if self._browser is not None:
            return self
        if not os.access(self.config.executable, os.X_OK):
            raise BrowserError(f"Chromium not found at {self.config.executable}; install it with "
                               "`make chromium` (Debian's chromium package) or set browser.executable")
        from playwright.sync_api import sync_playwright

        self._pw = sync_playwright().start()
        self._browser = self._pw.chromium.launch(
            executable_path=self.config.executable, headless=self.config.headless,
            args=CHROMIUM_FLAGS)
        return self

    def new_tab(self) -> Tab:
        self.start()
        context = self._browser.new_context(
            viewport={"width": self.config.viewport_width, "height": self.config.viewport_height})
        context.set_default_timeout(self.config.action_timeout_s * 1000)
        context.set_default_navigation_timeout(self.config.navigation_timeout_s * 1000)
        return Tab(context, self.config, self._js)

    def close(self) -> None:
        if self._browser is not None:
            self._browser.close()
            self._pw.stop()
        self._browser = self._pw = None


class Tab:
    """One session's view of the web: the newest page of its browser context."""

    def __init__(self, context, config: BrowserConfig, js: str):
        self.context = context
        self.config = config
        self._js = js
        self.page = context.new_page()
        # A link with target=_blank opens a new page; the agent follows it.
        context.on("page", self._on_new_page)

    def _on_new_page(self, page) -> None:
        self.page = page

    @property
    def url(self) -> str:
        return self.page.url

    # ------------------------------------------------------------------ observe

    def _evaluate(self, args: dict):
        from playwright.sync_api import Error as PlaywrightError

        for attempt in range(3):
            try:
                return self.page.evaluate(self._js, args)
            except PlaywrightError as e:  # a navigation replaced the document mid-evaluate
                if attempt == 2 or "context was destroyed" not in str(e).lower() and \
                        "navigat" not in str(e).lower():
                    raise BrowserError(f"could not read the page: {str(e).splitlines()[0]}") from e
                self._settle()

    def observe(self) -> Snapshot:
        cfg = self.config
        raw = self._evaluate({"op": "observe", "maxElements": cfg.max_elements,
                              "maxText": cfg.max_text, "maxExtract": cfg.max_extract})
        elements, fps, safety = [], {}, {}
        for e in raw["elements"]:
            fps[e["index"]] = e.pop("fingerprint")
            s = e.pop("safety")
            safety[e["index"]] = ElementSafety(s["submitsForm"], s["formHasPassword"],
                                               s["formHasPayment"], s["fieldDescription"])
            elements.append(Element(**e))
        obs = Observation(url=raw["url"], title=raw["title"], elements=elements, text=raw["text"],
                          pixels_above=raw["pixelsAbove"], pixels_below=raw["pixelsBelow"])
        return Snapshot(obs, fps, safety, raw["fullText"])

    # ------------------------------------------------------------------ act

    def _locate(self, snap: Snapshot, index: int):
        el = snap.observation.element(index)
        if el is None:
            n = len(snap.observation.elements)
            raise BrowserError(f"there is no element {index} on this page (it lists "
                               + (f"elements 0..{n - 1})" if n else "no elements)"))
        now = self._evaluate({"op": "fingerprint", "id": index})
        if now != snap.fingerprints.get(index):
            raise StaleElementError(
                f"element {index} ({el.role} {el.label!r}) changed or disappeared since the page "
                "was observed; nothing was done")
        if el.disabled:
            raise BrowserError(f"element {index} ({el.role} {el.label!r}) is disabled")
        return el, self.page.locator(f'[data-llmos-id="{index}"]')

    def _settle(self) -> None:
        """Wait (briefly) for a navigation the action may have started."""
        from playwright.sync_api import Error as PlaywrightError

        try:
            self.page.wait_for_load_state("domcontentloaded",
                                          timeout=self.config.navigation_timeout_s * 1000)
        except PlaywrightError:
            pass

    def _do(self, what: str, fn) -> None:
        from playwright.sync_api import Error as PlaywrightError

        try:
            fn()
        except PlaywrightError as e:
            raise BrowserError(f"could not {what}: {str(e).splitlines()[0]}") from e
        self._settle()

    def click(self, snap: Snapshot, index: int) -> str:
        el, loc = self._locate(snap, index)
        target = loc.get_attribute("target") if el.tag == "a" else None
        if target and target not in ("_self", "_parent", "_top"):
            def click_to_new_page():  # wait for the new page, so the next observation sees it
                with self.context.expect_page() as new:
                    loc.click()
                self.page = new.value
            self._do(f"click element {index}", click_to_new_page)
        else:
            self._do(f"click element {index}", lambda: loc.click())
        return f"clicked {el.role} {el.label!r}"

    def type(self, snap: Snapshot, index: int, text: str, press_enter: bool = False) -> str:
        """Type `text` (secrets already filled in) into a field; the message never holds it."""
        el, loc = self._locate(snap, index)
        if el.role in ("checkbox", "radio", "button", "link") or el.tag == "select":
            raise BrowserError(f"element {index} is a {el.role}, not a text field; use "
                               f"{'select' if el.tag == 'select' else 'click'}")
        self._do(f"type into element {index}", lambda: loc.fill(text))
        if press_enter:
            self._do(f"press Enter in element {index}", lambda: loc.press("Enter"))
        return f"typed into {el.role} {el.label!r}" + (" and pressed Enter" if press_enter else "")

    def select(self, snap: Snapshot, index: int, option: str) -> str:
        el, loc = self._locate(snap, index)
        if el.tag != "select":
            raise BrowserError(f"element {index} is a {el.role}, not a <select>; use click")
        wanted = option.strip().lower()
        match = next((o for o in el.options if o.strip().lower() == wanted), None)
        if match is not None:
            self._do(f"select {option!r}", lambda: loc.select_option(label=match))
        else:
            try:
                loc.select_option(value=option, timeout=1000)
            except Exception:
                raise BrowserError(f"element {index} has no option {option!r}; its options are "
                                   f"{el.options}") from None
            self._settle()
        return f"selected {option!r} in {el.label!r}"

    def scroll(self, direction: str, pages: float) -> str:
        sign = 1 if direction == "down" else -1
        self.page.evaluate("(d) => window.scrollBy(0, d * window.innerHeight)", sign * pages)
        return f"scrolled {direction} {pages:g} page(s)"

    def navigate(self, url: str) -> str:
        if urlparse(url).scheme.lower() not in ("http", "https") and url != "about:blank":
            raise BrowserError(f"cannot navigate to {url!r}: only http(s) URLs are allowed")
        self._do(f"open {url}", lambda: self.page.goto(url, wait_until="domcontentloaded"))
        return f"opened {self.page.url}"

    def back(self) -> str:
        before = self.page.url
        self._do("go back", lambda: self.page.go_back(wait_until="domcontentloaded"))
        if self.page.url == before:
            raise BrowserError("there is no previous page to go back to")
        return f"went back to {self.page.url}"

    def extract(self, snap: Snapshot, query: str) -> str:
        """The page's text, or only the lines that mention any word of `query`."""
        text = snap.full_text
        if not query.strip():
            return text
        words = [w.lower() for w in query.split() if len(w) > 2] or [query.lower()]
        lines = [ln for ln in text.splitlines() if any(w in ln.lower() for w in words)]
        return "\n".join(lines) if lines else f"(no line mentions {query!r})"

    def screenshot(self, secret_values: list[str] = ()) -> str:
        """A base64 PNG of the viewport; fields holding a secret are masked."""
        mask = []
        if secret_values:
            if self._evaluate({"op": "markSecrets", "values": list(secret_values)}):
                mask = [self.page.locator("[data-llmos-secret]")]
        png = self.page.screenshot(type="png", mask=mask)
        return base64.b64encode(png).decode()

    def close(self) -> None:
        try:
            self.context.close()
        except Exception:  # already gone with the browser
            pass
