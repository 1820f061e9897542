"""llmos.serve: an OpenAI-compatible HTTP API over the batched engine, and `llmos chat`.

    schemas.py       request and response bodies (Pydantic), validated strictly
    errors.py        OpenAI-style error bodies for every refusal
    served_model.py  a model, its tokenizer and engine; requests -> prompt ids and settings
    streaming.py     server-sent events in OpenAI's chunk format
    auth.py          the optional API key
    app.py           the FastAPI routes: /v1/models, /v1/completions, /v1/chat/completions, /health
    cli.py           `llmos serve MODEL`
    chat_backends.py a local model, any OpenAI-compatible URL, or ELIZA
    chat_cli.py      `llmos chat`

    from llmos.serve.app import create_app
    from llmos.serve.served_model import ServedModel
    app = create_app(ServedModel.load("runs/tiny"), api_key=None)
"""

from llmos.extras import check_extra

check_extra("serve", "fastapi", "uvicorn", "httpx")
