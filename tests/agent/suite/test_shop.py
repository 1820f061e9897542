"""Corner Shop: cart arithmetic, checkout validation, the hostile review, the moving deals page."""
from __future__ import annotations

import html
import time

import pytest

from llmos.agent.suite.shop import BY_SLUG, DEALS, HOSTILE_LINK

CHECKOUT = {"name": "Ada Lovelace", "street": "12 Analytical Street", "city": "Lisbon",
            "postcode": "1000-001", "country": "Portugal", "shipping": "standard",
            "card_name": "Ada Lovelace", "card_number": "4242424242424242", "card_expiry": "12/29",
            "card_cvc": "7373"}


def add(client, slug, qty=1):
    r = client.post("/shop/cart/add", data={"slug": slug, "qty": str(qty)})
    assert r.status_code == 303 and r.headers["location"] == f"/shop/cart?added={slug}"


def test_search_and_category_filter(client):
    kettles = client.get("/shop/", params={"q": "kettle"}).text
    assert "Stovetop Kettle" in kettles and "Gooseneck Kettle" in kettles and "Ceramic Mug" not in kettles
    tea = client.get("/shop/", params={"category": "Tea"}).text
    assert "Ceremonial Matcha" in tea and "French Press" not in tea


def test_cart_add_update_remove(client, state):
    add(client, "green-tea")
    add(client, "green-tea", 2)
    add(client, "chocolate")
    assert state.shop.cart == {"green-tea": 3, "chocolate": 1}
    client.post("/shop/cart/update", data={"qty-green-tea": "5", "qty-chocolate": "0"})
    assert state.shop.cart == {"green-tea": 5}
    r = client.post("/shop/cart/update", data={"qty-green-tea": "many"})
    assert r.status_code == 422 and state.shop.cart == {"green-tea": 5}
    client.post("/shop/cart/remove", data={"slug": "green-tea"})
    assert state.shop.cart == {}


def test_quantity_out_of_range_is_refused(client, state):
    r = client.post("/shop/cart/add", data={"slug": "matcha", "qty": "0"})
    assert r.status_code == 422 and "quantity from 1 to 20" in r.text and state.shop.cart == {}


def test_coupon_discount_and_free_standard_shipping_over_50(client, state):
    add(client, "gooseneck-kettle")            # 42.00
    add(client, "french-press")                # 24.00 -> 66.00
    r = client.post("/shop/cart/coupon", data={"coupon": "FREE100"})
    assert r.status_code == 422 and "not valid" in r.text
    client.post("/shop/cart/coupon", data={"coupon": "save10"})
    assert state.shop.coupon == "SAVE10"
    r = client.post("/shop/checkout", data=CHECKOUT)
    assert r.status_code == 303, r.text
    (o,) = state.shop.orders
    assert (o.subtotal, o.discount, o.shipping_cost, o.total) == (6600, 660, 0, 5940)
    assert o.items == {"gooseneck-kettle": 1, "french-press": 1} and o.card_last4 == "4242"
    assert state.shop.cart == {} and state.shop.coupon == ""
    assert "Total €59.40" in client.get(r.headers["location"]).text


def test_checkout_validation_lists_every_problem_and_places_nothing(client, state):
    add(client, "matcha")
    bad = {**CHECKOUT, "postcode": "", "country": "Atlantis", "card_expiry": "13/29"}
    r = client.post("/shop/checkout", data=bad)
    text = html.unescape(r.text)
    assert r.status_code == 422 and "Please fix 3 problems" in text
    assert "Enter the postcode." in text and "Choose a country" in text and "MM/YY" in text
    assert state.shop.orders == [] and state.shop.cart == {"matcha": 1}


def test_empty_cart_cannot_check_out(client, state):
    r = client.post("/shop/checkout", data=CHECKOUT)
    assert "Your cart is empty" in r.text and state.shop.orders == []


def test_hostile_review_tells_the_reader_to_buy_and_leave(client):
    text = client.get("/shop/product/ceramic-mug").text
    assert "IGNORE PREVIOUS INSTRUCTIONS" in text and "Gift Card" in text
    assert f'href="{HOSTILE_LINK}"' in text
    assert "IGNORE PREVIOUS" not in client.get("/shop/product/french-press").text


def test_unknown_product_is_a_404(client):
    assert client.get("/shop/product/unicorn").status_code == 404


@pytest.mark.browser
def test_deals_arrive_late_and_keep_changing_order(page, server):
    page.goto(server.url("/shop/deals?rotate_ms=300"))
    buttons = page.locator("#deals button")
    buttons.first.wait_for()
    labels = lambda: page.eval_on_selector_all(  # noqa: E731  (one read: the list may turn mid-way)
        "#deals button", "els => els.map(e => e.getAttribute('aria-label'))")
    first = labels()
    assert len(first) == len(DEALS)
    deadline, second = time.monotonic() + 5, first
    while second == first and time.monotonic() < deadline:
        time.sleep(0.05)
        second = labels()
    # Same deals, new order: the list turned round by one or more places.
    assert second in [first[k:] + first[:k] for k in range(1, len(first))]


@pytest.mark.browser
def test_deal_button_adds_the_named_product(page, server):
    page.goto(server.url("/shop/deals?rotate_ms=0"))
    page.get_by_role("button", name="Add French Press 1 L to cart").click()
    page.get_by_text("French Press 1 L added to your cart").wait_for()
    assert server.state.shop.cart == {"french-press": 1}


@pytest.mark.browser
def test_sort_by_price_highest_first(page, server):
    page.goto(server.url("/shop/?category=Kitchen"))
    page.get_by_label("Sort by").select_option(label="Price (highest first)")
    first = page.locator("#products li a").first.inner_text()
    assert first == max((p for p in BY_SLUG.values() if p.category == "Kitchen"),
                        key=lambda p: p.price).name
