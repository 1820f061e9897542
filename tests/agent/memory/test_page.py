"""The /memory page in headless Chromium: see, search, correct, delete, export; changes reach the store."""
from __future__ import annotations

import json
import os
import socket
import threading
import time

import httpx
import pytest
from fastapi import FastAPI

from llmos.agent.memory.hooks import MemoryBank
from llmos.agent.memory.page import mount_memory

KEY = "test-key-7f3a"
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run"]


@pytest.fixture
def server(tmp_path, hash_embedder):
    import uvicorn

    bank = MemoryBank(tmp_path, hash_embedder)
    ada = bank.memory("ada")
    ada.capture("I'm vegetarian and always take an aisle seat")
    ada.save("lives in Chicago", key="home_city", value="Chicago")
    ada.save("moved to Boston", key="home_city", value="Boston")
    ada.save("Ada's locker code is 8812", key="locker")
    for _ in range(3):
        ada.record_choice("coffee", [{"item": "Colombian"}, {"item": "Ethiopian"}], 0)
    bank.memory("bob").save("Bob likes jazz")
    app = FastAPI()
    mount_memory(app, bank, KEY)
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    srv = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    deadline = time.time() + 30
    while not srv.started and time.time() < deadline:
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}", bank
    srv.should_exit = True
    thread.join(10)
    bank.close()


def test_the_page_and_its_api_need_the_key(server):
    url, _ = server
    assert httpx.get(f"{url}/memory").status_code == 401
    assert httpx.get(f"{url}/memory/api/items?person=ada").status_code == 401
    assert httpx.get(f"{url}/memory/api/items?person=ada", headers={"Authorization": "Bearer nope"}).status_code == 401
    assert httpx.get(f"{url}/memory?key=nope").status_code == 401
    ok = httpx.get(f"{url}/memory/api/items?person=ada", headers={"Authorization": f"Bearer {KEY}"})
    assert ok.status_code == 200 and any(i["text"] == "moved to Boston" for i in ok.json()["items"])
    bad = httpx.get(f"{url}/memory/api/items/999?person=ada", headers={"Authorization": f"Bearer {KEY}"})
    assert bad.status_code == 404 and "no memory #999" in bad.json()["error"]["message"]


@pytest.mark.browser
@pytest.mark.skipif(not os.access("/usr/bin/chromium", os.X_OK), reason="Chromium is not installed")
def test_the_person_sees_corrects_deletes_and_exports_in_chromium(server, tmp_path):
    from playwright.sync_api import sync_playwright

    url, bank = server
    ada = bank.memory("ada")
    seat = ada.preference("seat")
    locker = next(i for i in ada.store.items(key="locker"))
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path="/usr/bin/chromium", args=FLAGS)
        page = browser.new_page(accept_downloads=True)
        page.goto(f"{url}/memory?key={KEY}&person=ada")          # sets the cookie, drops the key
        assert page.url.endswith("/memory")
        page.goto(f"{url}/memory?person=ada")
        page.wait_for_selector("#items tr[id^=item-]")
        assert page.locator("#person").input_value() == "ada"
        # learned preferences are shown with their evidence
        prefs = page.locator("#prefs").inner_text()
        assert "coffee: prefers Colombian: chose 3 of 3" in prefs and "chose 3 of 3 (weight" in prefs
        assert "prefers aisle seats" in prefs and "Bob likes jazz" not in page.content()
        # search by words
        page.get_by_label("Search memory").fill("Boston")
        page.get_by_role("button", name="Search").click()
        page.wait_for_selector('#items[aria-busy="false"]')
        page.wait_for_function("document.querySelector('#items tr td:nth-child(4)')"
                               ".textContent.includes('moved to Boston')")
        # correct the seat preference
        page.get_by_label("Search memory").fill("")
        page.get_by_role("button", name="Search").click()
        page.wait_for_selector('#items[aria-busy="false"]')           # the full list is back before editing
        page.get_by_role("button", name=f"Edit #{seat.id}").first.click()
        page.get_by_label(f"Text of #{seat.id}").first.fill("prefers window seats")
        page.get_by_role("button", name=f"Save #{seat.id}").first.click()
        page.wait_for_function("document.getElementById('status').textContent.includes('corrected')")
        # delete the locker code
        page.get_by_role("button", name=f"Delete #{locker.id}").click()
        page.wait_for_function(f"document.getElementById('status').textContent.includes('forgot #{locker.id}')")
        # export
        with page.expect_download() as dl:
            page.get_by_role("link", name="Export JSON").click()
        exported = tmp_path / "export.json"
        dl.value.save_as(exported)
        browser.close()
    # the store saw it all
    now = ada.preference("seat")
    assert now.text == "prefers window seats" and now.value == "window" and now.source == "person"
    assert ada.store.get(seat.id).superseded_by == now.id            # the old one kept as history
    assert all("locker" not in h.item.text for h in ada.search("locker code 8812", k=10, include_history=True))
    data = json.loads(exported.read_text())
    assert data["format"] == "llmos-memory" and data["person"] == "ada"
    assert any(i["text"] == "prefers window seats" for i in data["items"])
    assert not any("locker" in i["text"] for i in data["items"])
