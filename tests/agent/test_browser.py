"""The browser layer in a real headless Chromium: distillation, every primitive, stale numbers."""
import pytest

from llmos.agent.browser import Browser, BrowserError, StaleElementError
from tests.agent.pages import page, serve_pages

pytestmark = pytest.mark.browser

FORM = page("""
<h1>Order form</h1>
<form name="order" action="/sent">
  <label for="n">Your name</label><input id="n" name="name" value="Ann">
  <label>Password <input type="password" name="pw" value="hunter22"></label>
  <input name="city" placeholder="City">
  <input type="email" name="mail" aria-label="E-mail address">
  <select name="size" aria-label="Size"><option value="s">Small</option><option value="l">Large</option></select>
  <input type="checkbox" id="gift" name="gift"><label for="gift">Gift wrap</label>
  <textarea name="note" title="Note"></textarea>
  <button>Send order</button>
</form>
<a href="/other">Other page</a>
<a href="/other" target="_blank">Open in new tab</a>
<button onclick="this.textContent='Clicked!'">Press me</button>
<button disabled>Cannot</button>
<div style="display:none"><button>Hidden</button></div>
<button style="visibility:hidden">Invisible</button>
<span aria-hidden="true"><a href="/x">Aria hidden</a></span>
<a href="/img"><img src="data:," alt="Logo link" width="5" height="5"></a>
""", "Order")

OTHER = page("<h1>Other</h1><p>Line about cats.</p><p>Line about dogs.</p><a href='/'>Home</a>", "Other")
LONG = page("<div style='height:3000px'>Top</div><button>Bottom button</button>", "Long")
STALE = page("""<div id="box"><button id="a" onclick="location.href='/cancelled'">Cancel order</button></div>""")


@pytest.fixture(scope="module")
def site():
    s = serve_pages({"/": FORM, "/other": OTHER, "/long": LONG, "/stale": STALE,
                     "/sent": page("sent"), "/cancelled": page("cancelled"), "/bought": page("bought")})
    yield s
    s.close()


@pytest.fixture(scope="module")
def browser():
    b = Browser().start()
    yield b
    b.close()


@pytest.fixture
def tab(browser):
    t = browser.new_tab()
    yield t
    t.close()


def by_label(snap, label):
    return next(e for e in snap.observation.elements if e.label == label)


def test_observe_numbers_visible_elements_with_labels_and_values(tab, site):
    tab.navigate(site.url("/"))
    snap = tab.observe()
    obs = snap.observation
    assert obs.title == "Order" and obs.url == site.url("/")
    labels = [e.label for e in obs.elements]
    assert labels == ["Your name", "Password", "City", "E-mail address", "Size", "Gift wrap", "Note",
                      "Send order", "Other page", "Open in new tab", "Press me", "Cannot", "Logo link"]
    assert [e.index for e in obs.elements] == list(range(len(labels)))
    assert by_label(snap, "Your name").value == "Ann"
    assert by_label(snap, "Password").value == "***"          # never the password itself
    assert by_label(snap, "Password").input_type == "password"
    size = by_label(snap, "Size")
    assert (size.role, size.value, size.options) == ("combobox", "Small", ["Small", "Large"])
    assert by_label(snap, "Gift wrap").checked is False
    assert by_label(snap, "Other page").href == site.url("/other")
    assert by_label(snap, "Cannot").disabled
    assert by_label(snap, "Send order").form == "order"
    assert snap.safety[by_label(snap, "Send order").index].submits_form
    assert snap.safety[by_label(snap, "Send order").index].form_has_password
    assert "Order form" in obs.text and "Hidden" not in obs.text


def test_click_type_select_and_submit(tab, site):
    tab.navigate(site.url("/"))
    snap = tab.observe()
    tab.click(snap, by_label(snap, "Press me").index)
    assert tab.page.inner_text("button[onclick]") == "Clicked!"
    snap = tab.observe()
    tab.type(snap, by_label(snap, "City").index, "Oslo")
    tab.select(snap, by_label(snap, "Size").index, "large")       # by visible text, any case
    tab.click(snap, by_label(snap, "Gift wrap").index)
    after = tab.observe()
    assert by_label(after, "City").value == "Oslo"
    assert by_label(after, "Size").value == "Large"
    assert by_label(after, "Gift wrap").checked is True
    tab.type(after, by_label(after, "Note").index, "ring twice", press_enter=False)
    sent_before = len(site.hits("/sent"))      # the module's other tests submit this form too
    tab.click(after, by_label(after, "Send order").index)
    assert tab.url.startswith(site.url("/sent"))
    assert len(site.hits("/sent")) == sent_before + 1
    sent = site.hits("/sent")[-1]
    assert sent["city"] == "Oslo" and sent["size"] == "l" and sent["gift"] == "on"
    assert sent["note"] == "ring twice"


def test_type_with_enter_submits_and_bad_targets_are_refused(tab, site):
    tab.navigate(site.url("/"))
    snap = tab.observe()
    with pytest.raises(BrowserError, match="not a text field"):
        tab.type(snap, by_label(snap, "Send order").index, "x")
    with pytest.raises(BrowserError, match="no option 'Medium'.*Small"):
        tab.select(snap, by_label(snap, "Size").index, "Medium")
    with pytest.raises(BrowserError, match="not a <select>"):
        tab.select(snap, by_label(snap, "City").index, "x")
    with pytest.raises(BrowserError, match="disabled"):
        tab.click(snap, by_label(snap, "Cannot").index)
    with pytest.raises(BrowserError, match="no element 99"):
        tab.click(snap, 99)
    tab.select(snap, by_label(snap, "Size").index, "l")          # by value also works
    sent_before = len(site.hits("/sent"))
    tab.type(snap, by_label(snap, "City").index, "Bergen", press_enter=True)
    assert len(site.hits("/sent")) == sent_before + 1
    assert site.hits("/sent")[-1]["city"] == "Bergen" and site.hits("/sent")[-1]["size"] == "l"


def test_navigate_back_scroll_and_extract(tab, site):
    with pytest.raises(BrowserError, match="only http"):
        tab.navigate("javascript:alert(1)")
    with pytest.raises(BrowserError, match="only http"):
        tab.navigate("file:///etc/passwd")
    tab.navigate(site.url("/"))
    tab.navigate(site.url("/other"))
    snap = tab.observe()
    assert tab.extract(snap, "") .startswith("Other")
    assert tab.extract(snap, "cats") == "Line about cats."
    assert "no line mentions" in tab.extract(snap, "zebras")
    tab.back()
    assert tab.url == site.url("/")
    tab.navigate(site.url("/long"))
    top = tab.observe().observation
    assert top.pixels_above == 0 and top.pixels_below > 1000
    assert not top.elements[0].in_viewport
    tab.scroll("down", 2)
    down = tab.observe().observation
    assert down.pixels_above == 2 * 800
    tab.scroll("up", 5)
    assert tab.observe().observation.pixels_above == 0


def test_back_without_history_is_an_error(browser):
    t = browser.new_tab()
    try:
        with pytest.raises(BrowserError, match="no previous page"):
            t.back()
    finally:
        t.close()


def test_link_opening_a_new_tab_is_followed(tab, site):
    tab.navigate(site.url("/"))
    snap = tab.observe()
    tab.click(snap, by_label(snap, "Open in new tab").index)
    tab.page.wait_for_load_state()
    assert tab.url == site.url("/other")
    assert tab.observe().observation.title == "Other"


@pytest.mark.parametrize("change, fresh_label, fresh_goes_to", [
    # the element is replaced by a new one (a re-render): the number names nothing
    ("document.getElementById('box').innerHTML = "
     "'<button onclick=\"location.href=\\'/bought\\'\">Buy now</button>'", "Buy now", "/bought"),
    # the same node now says something else
    ("const b = document.getElementById('a'); b.textContent = 'Buy now'; "
     "b.onclick = () => location.href = '/bought'", "Buy now", "/bought"),
    # a copy of the numbered node appears: the number is ambiguous
    ("document.body.appendChild(document.getElementById('a').cloneNode(true))", "Cancel order", "/cancelled"),
    # the element is gone
    ("document.getElementById('box').remove()", None, None),
], ids=["replaced", "relabelled", "duplicated", "removed"])
def test_stale_element_number_is_detected_and_nothing_is_clicked(tab, site, change, fresh_label, fresh_goes_to):
    tab.navigate(site.url("/stale"))
    snap = tab.observe()
    assert snap.observation.elements[0].label == "Cancel order"
    tab.page.evaluate(change + "; null")   # the page changes after the observation
    before = len(site.requests)
    with pytest.raises(StaleElementError, match="changed or disappeared"):
        tab.click(snap, 0)
    assert tab.url == site.url("/stale")
    assert not [r for r in site.requests[before:] if r[1] in ("/bought", "/cancelled")]
    fresh = tab.observe()               # re-observing gives numbers that work again
    if fresh_label is None:
        assert fresh.observation.elements == []
        return
    assert fresh.observation.elements[0].label == fresh_label
    tab.click(fresh, 0)
    assert tab.url == site.url(fresh_goes_to)
    # (the browser may also ask for /favicon.ico meanwhile)
    assert [r[1] for r in site.requests[before:] if r[1] in ("/bought", "/cancelled")] == [fresh_goes_to]


def test_typing_into_a_field_does_not_make_other_numbers_stale(tab, site):
    tab.navigate(site.url("/"))
    snap = tab.observe()
    tab.type(snap, by_label(snap, "City").index, "Oslo")
    tab.type(snap, by_label(snap, "City").index, "Tromsø")   # same snapshot, value changed
    sent_before = len(site.hits("/sent"))
    tab.click(snap, by_label(snap, "Send order").index)
    assert len(site.hits("/sent")) == sent_before + 1 and site.hits("/sent")[-1]["city"] == "Tromsø"


def test_screenshot_masks_fields_holding_a_secret(tab, site):
    tab.navigate(site.url("/"))
    snap = tab.observe()
    tab.type(snap, by_label(snap, "City").index, "4111111111111111")
    plain = tab.screenshot()
    masked = tab.screenshot(["4111111111111111"])
    assert plain != masked
    assert tab.page.get_attribute("input[name=city]", "data-llmos-secret") == "1"
    assert tab.page.get_attribute("input[name=name]", "data-llmos-secret") is None
