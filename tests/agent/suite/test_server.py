"""SuiteServer: a free port per server, live state, reset over HTTP, a clean stop."""
from __future__ import annotations

import socket

import httpx
import pytest

from llmos.agent.suite.server import SuiteServer


def test_two_servers_get_their_own_ports_and_state():
    with SuiteServer() as a, SuiteServer() as b:
        assert a.port != b.port and a.port > 0
        httpx.post(a.url("/shop/cart/add"), data={"slug": "matcha", "qty": "2"})
        assert a.state.shop.cart == {"matcha": 2} and b.state.shop.cart == {}
        assert httpx.get(b.url("/")).status_code == 200


def test_state_endpoint_and_reset_over_http():
    with SuiteServer() as s:
        httpx.post(s.url("/shop/cart/add"), data={"slug": "chocolate", "qty": "3"})
        assert httpx.get(s.url("/_suite/state")).json()["shop"]["cart"] == {"chocolate": 3}
        assert httpx.post(s.url("/_suite/reset")).json() == {"reset": True}
        snap = httpx.get(s.url("/_suite/state")).json()
        assert snap["shop"]["cart"] == {} and len(snap["flights"]["bookings"]) == 2


def test_stop_frees_the_port_and_a_second_start_is_refused():
    s = SuiteServer().start()
    port = s.port
    with pytest.raises(RuntimeError, match="already running"):
        s.start()
    s.stop()
    with socket.socket() as probe:
        assert probe.connect_ex(("127.0.0.1", port)) != 0
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"http://127.0.0.1:{port}/", timeout=2)


def test_static_files_and_index_are_served():
    with SuiteServer() as s:
        assert "sortTarget" in httpx.get(s.url("/static/sort.js")).text
        index = httpx.get(s.url("/")).text
        assert all(site in index for site in ("/flights/", "/shop/", "/forms/"))
