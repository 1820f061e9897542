"""`llmos chat` with piped stdin: ELIZA, a local model folder, and a server URL."""
import io

from llmos.cli.main import main
from llmos.hub import load_pretrained
from llmos.infer import GenerationConfig
from llmos.infer.engine import EngineConfig
from llmos.serve.chat_backends import ElizaChat, LocalChat
from llmos.serve.chat_cli import converse
from llmos.serve.served_model import ServedModel


class Script(io.StringIO):
    def isatty(self):
        return False


def run_cli(monkeypatch, capsys, argv, text):
    monkeypatch.setattr("sys.stdin", Script(text))
    code = main(["chat", *argv])
    return code, capsys.readouterr()


def test_eliza_over_piped_stdin(monkeypatch, capsys):
    code, out = run_cli(monkeypatch, capsys, ["--eliza"], "I am unhappy\n\nmy mother is strict\n/exit\nnever read\n")
    lines = out.out.splitlines()
    assert code == 0
    assert lines[0].startswith("eliza> ")                      # ELIZA opens with its greeting
    assert lines[1] == "you> I am unhappy" and lines[3] == "you> my mother is strict"
    assert "unhappy" in lines[2].lower() and lines[4].startswith("eliza> ")
    assert "never read" not in out.out


def test_local_model_keeps_the_history(model_dir):
    served = ServedModel.load(model_dir, name="tiny", engine_config=EngineConfig(n_slots=1))
    backend = LocalChat(served, max_tokens=6, temperature=0)
    console_out = io.StringIO()
    from rich.console import Console
    try:
        messages = converse(backend, "be kind", Script("hello\nwhat now?\n"),
                            Console(file=console_out, highlight=False, soft_wrap=True))
    finally:
        backend.close()
    assert [m["role"] for m in messages] == ["system", "user", "assistant", "user", "assistant"]
    # the second answer was generated from the whole conversation, as the template renders it
    model, tok = load_pretrained(model_dir)
    prompt = tok.apply_chat_template(messages[:4], tokenize=True)
    from llmos.infer import complete
    want = complete(model, prompt, GenerationConfig(max_new_tokens=6, temperature=0, stop=served.chat_stops), tok)
    assert messages[4]["content"] == want.text.strip()
    assert "you> what now?" in console_out.getvalue()


def test_local_model_from_the_command_line(monkeypatch, capsys, model_dir):
    code, out = run_cli(monkeypatch, capsys, ["--model", str(model_dir), "--max-tokens", "4", "--temperature", "0"],
                        "hi\n")
    assert code == 0 and out.out.splitlines()[0] == "you> hi"
    assert out.out.splitlines()[1].startswith(f"{model_dir.name}> ")


def test_remote_server_url(monkeypatch, capsys, server):
    code, out = run_cli(monkeypatch, capsys, ["--url", f"{server}/v1", "--max-tokens", "4"], "hi\n/reset\nagain\n")
    lines = out.out.splitlines()
    assert code == 0
    assert lines[0] == "you> hi" and lines[1].startswith("tiny> ")
    assert lines.index("(conversation forgotten)") < lines.index("you> again")


def test_bad_arguments_are_refused(monkeypatch, capsys, tmp_path):
    assert run_cli(monkeypatch, capsys, [], "")[0] == 2
    code, out = run_cli(monkeypatch, capsys, ["--model", str(tmp_path / "missing")], "")
    assert code == 2 and "does not exist" in out.err


def test_eliza_backend_reset_forgets_its_memory():
    said = [{"role": "user", "content": "my dog is ill"}]
    hmm = [{"role": "user", "content": "hmm"}]
    kept, forgot, fresh = ElizaChat(), ElizaChat(), ElizaChat()
    for bot in (kept, forgot):
        list(bot.reply(said))
    forgot.reset()
    replies = lambda bot: [next(bot.reply(hmm)) for _ in range(3)]   # noqa: E731
    remembering = replies(kept)
    assert any("dog" in r for r in remembering)           # ELIZA's memory brings the dog back
    assert replies(forgot) == replies(fresh) != remembering


def test_local_model_with_int8_weights(monkeypatch, capsys, model_dir):
    from llmos.nn.quantize import Int8Linear
    from llmos.serve.cli import load_weights_as
    served = load_weights_as(model_dir, "int8", None, EngineConfig(n_slots=1), "cpu")
    assert isinstance(served.engine.model.blocks[0].attn.q_proj, Int8Linear) and served.name == model_dir.name
    code, out = run_cli(monkeypatch, capsys, ["--model", str(model_dir), "--max-tokens", "4", "--temperature", "0",
                                              "--dtype", "int8"], "hi\n")
    assert code == 0 and out.out.splitlines()[1].startswith(f"{model_dir.name}> ")
