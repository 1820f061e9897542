"""Fixtures for the web task suite: an in-process client, a live server, a real browser."""
from __future__ import annotations

import os

import pytest
from fastapi.testclient import TestClient

from llmos.agent.suite.app import SuiteState, create_suite_app
from llmos.agent.suite.server import SuiteServer

CHROMIUM = "/usr/bin/chromium"
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run"]


@pytest.fixture
def state() -> SuiteState:
    return SuiteState()


@pytest.fixture
def client(state) -> TestClient:
    """The suite app in-process (no socket): fast checks of each site's logic."""
    with TestClient(create_suite_app(state), follow_redirects=False) as c:
        yield c


@pytest.fixture(scope="module")
def server():
    with SuiteServer() as s:
        yield s


@pytest.fixture(scope="module")
def browser():
    if not os.access(CHROMIUM, os.X_OK):
        pytest.skip("Chromium is not installed at /usr/bin/chromium (make chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=FLAGS)
        yield b
        b.close()


@pytest.fixture
def page(browser, server):
    server.reset()
    context = browser.new_context()
    p = context.new_page()
    p.set_default_timeout(5000)
    yield p
    context.close()
