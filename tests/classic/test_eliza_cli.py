"""`llmos eliza`: replayed conversations, scripts from files, errors, the interactive banner."""
import io
import subprocess
import sys
from pathlib import Path

from llmos.classic.eliza import Eliza
from llmos.classic.eliza.cli import eliza

GOLDEN = Path(__file__).parent / "data" / "eliza_keeper_conversation.txt"
LLMOS = [sys.executable, "-c", "import sys; from llmos.cli.main import main; sys.exit(main())"]


def golden() -> tuple[list[str], list[str]]:
    lines = GOLDEN.read_text().splitlines()
    said, replies = lines[0::2], lines[1::2]
    assert all(s.startswith("> ") for s in said) and len(said) == len(replies)
    return [s[2:] for s in said], replies


def run(*args: str, stdin: str) -> subprocess.CompletedProcess:
    return subprocess.run(LLMOS + ["eliza", *args], input=stdin, capture_output=True, text=True,
                          timeout=60)


def test_default_script_conversation_is_deterministic():
    said, replies = golden()
    first, second = Eliza.from_script(), Eliza.from_script()
    assert [first.respond(s) for s in said] == replies
    assert [second.respond(s) for s in said] == replies
    first.reset()
    assert [first.respond(s) for s in said] == replies


def test_piped_cli_replays_the_golden_conversation():
    said, replies = golden()
    out = run(stdin="\n".join(said) + "\n")
    assert out.returncode == 0, out.stderr
    assert out.stdout.splitlines() == replies  # one reply per line, no banner, no greeting


def test_cli_with_another_script_teletype_and_blank_lines(tmp_path):
    script = tmp_path / "sea.eliza"
    script.write_text("(AHOY)\n(SEA ((0) (HEARD 1)))\n(NONE ((0) (GO ON)))\n")
    out = run("--script", str(script), "--teletype", stdin="the sea\n\nx sea y\n")
    assert out.returncode == 0, out.stderr
    assert out.stdout.splitlines() == ["HEARD THE SEA", "GO ON", "HEARD X SEA Y"]


def test_cli_trace_goes_to_stderr():
    out = run("--trace", stdin="I am sad\n")
    assert out.stdout.splitlines() == ["I am sorry you are sad. Sit closer to the stove"]
    assert "keystack: I" in out.stderr and "reassembly 1 of" in out.stderr


def test_cli_reports_a_malformed_script_with_its_line(tmp_path):
    script = tmp_path / "bad.eliza"
    script.write_text("(HI)\n(SEA ((0) (THE SEA 4)))\n(NONE ((0) (GO ON)))\n")
    out = run("--script", str(script), stdin="sea\n")
    assert out.returncode == 2 and out.stdout == ""
    assert f"{script}:2:" in out.stderr and "part 4" in out.stderr
    missing = run("--script", str(tmp_path / "none.eliza"), stdin="")
    assert missing.returncode == 2 and "no ELIZA script" in missing.stderr


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_interactive_session_opens_with_a_banner_and_greeting(monkeypatch, capsys):
    monkeypatch.setattr(sys, "stdin", _Terminal("I am sad\n\n"))
    assert eliza() == 0
    out = capsys.readouterr().out
    assert out.startswith("ELIZA: the pattern-matching conversation program of Joseph Weizenbaum")
    assert "Evening. The kettle is on and the lamp is lit." in out
    assert "I am sorry you are sad. Sit closer to the stove" in out
