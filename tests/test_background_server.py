"""serve_in_background: a real socket at once, the server gone after the block, a clear error if it cannot start."""
import httpx
import pytest
from fastapi import FastAPI

from llmos.background_server import serve_in_background


def app() -> FastAPI:
    a = FastAPI()

    @a.get("/ping")
    def ping():
        return {"pong": True}

    return a


def test_the_app_answers_on_the_yielded_url_and_stops_after_the_block():
    with serve_in_background(app()) as url:
        assert url.startswith("http://127.0.0.1:")
        assert httpx.get(url + "/ping").json() == {"pong": True}
    with pytest.raises(httpx.ConnectError):
        httpx.get(url + "/ping", timeout=2)


def test_two_servers_get_two_ports():
    with serve_in_background(app()) as a, serve_in_background(app()) as b:
        assert a != b and httpx.get(b + "/ping").status_code == 200


@pytest.mark.filterwarnings("ignore::pytest.PytestUnhandledThreadExceptionWarning")
def test_an_app_that_cannot_start_is_reported():
    def broken(scope, receive, send):      # not an ASGI app: uvicorn refuses it at start-up
        raise RuntimeError("never")
    with pytest.raises(RuntimeError, match="did not start"):
        with serve_in_background(broken, timeout=5, lifespan="on"):
            pass
