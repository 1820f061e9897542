"""Prompts from requests: the tokenizer's own chat template when it has one; OpenAI settings mapped."""
import json

import pytest

from llmos.hub import save_pretrained
from llmos.serve.errors import APIError
from llmos.serve.schemas import ChatCompletionRequest, ChatMessage, CompletionRequest
from llmos.serve.served_model import DEFAULT_TEMPLATE_STOPS, ServedModel
from llmos.text import Tokenizer

from tests.serve.conftest import CONTEXT, TEXT, tiny_model

CHATML = ("{% for m in messages %}<|im_start|>{{ m['role'] }}\n{{ m['content'] }}<|im_end|>\n{% endfor %}"
          "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}")


@pytest.fixture(scope="module")
def chatml_dir(tmp_path_factory):
    """A model whose tokenizer carries its own chat template and a second end token."""
    tok = Tokenizer.char(TEXT + "<|>_mie")
    tok.chat_template = CHATML
    folder = tmp_path_factory.mktemp("chatml")
    save_pretrained(tiny_model(tok.vocab_size, tok.eos_id), folder, tokenizer=tok)
    gen = json.loads((folder / "generation_config.json").read_text())
    gen["eos_token_id"] = [tok.eos_id, 7]
    (folder / "generation_config.json").write_text(json.dumps(gen))
    return folder


def chat_request(**kw):
    return ChatCompletionRequest(model="m", messages=[ChatMessage(role="user", content="hi")], **kw)


def test_chat_template_from_the_tokenizer_config(chatml_dir):
    served = ServedModel.load(chatml_dir, name="m")
    ids = served.chat_prompt([ChatMessage(role="developer", content="terse"), ChatMessage(role="user", content="hi")])
    assert served.tokenizer.decode(ids) == ("<|im_start|>system\nterse<|im_end|>\n<|im_start|>user\nhi<|im_end|>\n"
                                            "<|im_start|>assistant\n")
    assert served.chat_stops == []                       # the template's own end token ends a turn
    assert {served.tokenizer.eos_id, 7} <= served.engine.default_stop_ids   # generation_config.json's list


def test_default_template_stops_at_the_next_turn(model_dir):
    served = ServedModel.load(model_dir)
    assert served.name == model_dir.name and served.chat_stops == DEFAULT_TEMPLATE_STOPS
    gen = served.generation_config(chat_request(stop="x"), prompt_len=10)
    assert gen.stop == ["x", *DEFAULT_TEMPLATE_STOPS]
    assert gen.max_new_tokens == CONTEXT - 10            # chat: the rest of the context by default
    gen = served.generation_config(CompletionRequest(model="m", prompt="x"), prompt_len=10)
    assert gen.max_new_tokens == 16 and gen.stop == []   # completions: OpenAI's default of 16


def test_openai_settings_map_to_generation_config(model_dir):
    served = ServedModel.load(model_dir)
    gen = served.generation_config(chat_request(top_p=0.0, temperature=0.9), prompt_len=3)
    assert gen.greedy                                    # top_p 0 keeps only the most likely token
    gen = served.generation_config(chat_request(top_p=0.9, top_k=-1, seed=2**64 - 1, ignore_eos=True,
                                                max_completion_tokens=7), prompt_len=3, index=2)
    assert (gen.top_p, gen.top_k, gen.seed, gen.stop_token_ids, gen.max_new_tokens) == (0.9, None, 1, [], 7)


def test_empty_prompt_starts_from_the_end_of_text_token(model_dir):
    served = ServedModel.load(model_dir)
    assert served.tokenizer.bos_id is None
    assert served.completion_prompt("") == [served.tokenizer.eos_id]       # as GPT-2 does
    with pytest.raises(APIError, match="vocabulary"):
        served.completion_prompt([1, 10**6])


def test_a_folder_without_a_tokenizer_is_refused(tmp_path):
    save_pretrained(tiny_model(40, 3), tmp_path)
    with pytest.raises(ValueError, match="no tokenizer.json"):
        ServedModel.load(tmp_path)


def test_a_run_folder_serves_its_model_under_the_run_name(model_dir, tmp_path):
    import shutil
    run = tmp_path / "my-run"
    shutil.copytree(model_dir, run / "model")
    served = ServedModel.load(run)
    assert served.name == "my-run" and served.context == CONTEXT
