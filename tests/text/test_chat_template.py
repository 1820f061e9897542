"""Chat templates render as transformers renders them, and bad messages or templates are named."""
import pytest

from llmos.text.chat_template import DEFAULT_CHAT_TEMPLATE, ChatTemplateError, render_chat_template

# block tags on their own lines (trim_blocks / lstrip_blocks decide the whitespace), a loop that
# skips and stops (loopcontrols), tojson on non-ASCII text, raise_exception, and a bos_token variable
TEMPLATE = """{{ bos_token }}
{% for m in messages %}
    {% if m['role'] == 'tool' %}{% continue %}{% endif %}
    {% if m['role'] not in ['system', 'user', 'assistant'] %}{{ raise_exception('bad role ' + m['role']) }}{% endif %}
    {% if m['content'] == 'STOP' %}{% break %}{% endif %}
<|{{ m['role'] }}|>
{{ m['content'] | trim }}
    {% if m.get('meta') %}meta={{ m['meta'] | tojson }}
    {% endif %}
{% endfor %}
{% if add_generation_prompt %}<|assistant|>
{% endif %}"""

MESSAGES = [{"role": "system", "content": "Be brief. "},
            {"role": "user", "content": "Grüße, naïve café?", "meta": {"lang": "de", "note": "ü<>&"}},
            {"role": "tool", "content": "skipped"},
            {"role": "assistant", "content": "Hallo."},
            {"role": "user", "content": "STOP"},
            {"role": "user", "content": "never shown"}]


def hf_tokenizer(template):
    transformers = pytest.importorskip("transformers")
    from tokenizers import Tokenizer, models
    tok = Tokenizer(models.WordLevel({"[UNK]": 0}, unk_token="[UNK]"))
    return transformers.PreTrainedTokenizerFast(tokenizer_object=tok, chat_template=template,
                                                bos_token="<s>", eos_token="</s>")


@pytest.mark.parametrize("add_generation_prompt", [True, False])
def test_rendering_equals_transformers_apply_chat_template(add_generation_prompt):
    want = hf_tokenizer(TEMPLATE).apply_chat_template(MESSAGES, tokenize=False,
                                                      add_generation_prompt=add_generation_prompt)
    got = render_chat_template(TEMPLATE, MESSAGES, add_generation_prompt=add_generation_prompt, bos_token="<s>")
    assert got == want
    assert '"note": "ü<>&"' in got and "never shown" not in got and "skipped" not in got


def test_the_default_template_equals_transformers_too():
    messages = MESSAGES[:2] + MESSAGES[3:4]
    want = hf_tokenizer(DEFAULT_CHAT_TEMPLATE).apply_chat_template(messages, tokenize=False,
                                                                   add_generation_prompt=True)
    assert render_chat_template(DEFAULT_CHAT_TEMPLATE, messages, bos_token="<s>", eos_token="</s>") == want


@pytest.mark.parametrize("template,messages,message", [
    (TEMPLATE, [{"role": "robot", "content": "hi"}], "the chat template refused these messages: bad role robot"),
    (TEMPLATE, [{"content": "hi"}], "message 0 has no 'role'"),
    (TEMPLATE, "hello", "messages must be a list of"),
    ("{% for m in messages %}", [], "the chat template does not parse"),
])
def test_bad_messages_and_templates_are_named(template, messages, message):
    with pytest.raises(ChatTemplateError, match=message):
        render_chat_template(template, messages)
