"""An API key guards /v1 routes: 401 in OpenAI's shape without it; /health stays open."""
import httpx
import openai
import pytest
from openai import OpenAI

from llmos.serve.app import create_app
from llmos.background_server import serve_in_background

KEY = "sk-test-123"


@pytest.fixture(scope="module")
def keyed_server(served):
    with serve_in_background(create_app(served, api_key=KEY)) as url:
        yield url


@pytest.mark.parametrize("headers, words", [({}, "no API key"),
                                            ({"Authorization": "Bearer wrong"}, "incorrect API key"),
                                            ({"Authorization": KEY}, "no API key")])
def test_missing_or_wrong_key_is_401(keyed_server, headers, words):
    # the body is malformed too: the key is checked first, so nothing else is revealed
    r = httpx.post(f"{keyed_server}/v1/completions", content="{oops", headers=headers)
    assert r.status_code == 401
    error = r.json()["error"]
    assert words in error["message"] and error["code"] == "invalid_api_key"


def test_right_key_works_with_the_openai_client(keyed_server):
    with OpenAI(base_url=f"{keyed_server}/v1", api_key=KEY, max_retries=0) as client:
        assert client.models.list().data[0].id == "tiny"
        out = client.completions.create(model="tiny", prompt="the", max_tokens=3, temperature=0)
        assert len(out.choices) == 1 and out.usage.prompt_tokens == 3
        assert 1 <= out.usage.completion_tokens <= 3
    with OpenAI(base_url=f"{keyed_server}/v1", api_key="nope", max_retries=0) as client:
        with pytest.raises(openai.AuthenticationError):
            client.models.list()


def test_health_needs_no_key(keyed_server):
    r = httpx.get(f"{keyed_server}/health")
    assert r.status_code == 200 and r.json()["model"] == "tiny" and r.json()["slots"] == 8
