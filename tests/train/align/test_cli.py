import json

import pytest
import torch

from llmos.cli.main import main
from llmos.hub import load_pretrained, save_pretrained
from llmos.infer import GenerationConfig, complete
from llmos.train.align.data import PreferencePair, SFTExample, encode_prompt, save_jsonl

from tests.train.align.tiny import tiny_model, tiny_tokenizer

SMALL = ["max_len=24", "max_prompt_len=8", "batch_size=2", "save_every=2"]


@pytest.fixture()
def base(tmp_path):
    tok = tiny_tokenizer()
    return save_pretrained(tiny_model(tok), tmp_path / "base", tokenizer=tok)


def pairs_file(tmp_path):
    path = tmp_path / "pairs.jsonl"
    save_jsonl([PreferencePair("ab", "aaa", "xxx"), PreferencePair("ba", "a a", "x x"),
                PreferencePair("h", "aa", "xx")], path)
    return path


def steps(out):
    rows = map(json.loads, (out / "metrics.jsonl").read_text().splitlines())
    return [r["step"] for r in rows if r["kind"] == "train"]


def test_sft_then_dpo_from_the_command_line_and_the_result_generates(tmp_path, base):
    sft_data = tmp_path / "sft.jsonl"
    save_jsonl([SFTExample("ab", "xyz"), SFTExample("ba", "hh")], sft_data)
    assert main(["sft", str(base), str(sft_data), str(tmp_path / "sft"), "steps=2", "lr=1e-3", *SMALL]) == 0
    assert main(["dpo", str(tmp_path / "sft"), str(pairs_file(tmp_path)), str(tmp_path / "dpo"),
                 "steps=2", "beta=0.2", "loss_type=ipo", *SMALL]) == 0
    saved = json.loads((tmp_path / "dpo" / "train_config.json").read_text())
    assert saved["beta"] == 0.2 and saved["loss_type"] == "ipo"
    model, tok = load_pretrained(tmp_path / "dpo")
    # each stage wrote its own trained weights: base -> sft -> dpo all differ
    weights = [load_pretrained(f)[0].lm_head.weight for f in (base, tmp_path / "sft")] + [model.lm_head.weight]
    assert not torch.equal(weights[0], weights[1]) and not torch.equal(weights[1], weights[2])
    done = complete(model, encode_prompt(tok, "ab"), GenerationConfig(max_new_tokens=4, temperature=0), tok)
    assert 1 <= len(done.tokens) <= 4 and done.text == tok.decode(done.tokens)


def test_resume_continues_from_the_saved_settings(tmp_path, base):
    data, out = pairs_file(tmp_path), tmp_path / "dpo"
    main(["dpo", str(base), str(data), str(out), "steps=2", "beta=0.3", *SMALL])
    main(["dpo", str(base), str(data), str(out), "--resume", "steps=4"])
    assert steps(out) == [1, 2, 3, 4]
    assert json.loads((out / "train_config.json").read_text())["beta"] == 0.3


def test_reward_then_ppo_on_it_and_ppo_on_a_python_function(tmp_path, base):
    pairs = pairs_file(tmp_path)
    assert main(["reward", str(base), str(pairs), str(tmp_path / "rm"), "steps=2", *SMALL]) == 0
    assert (tmp_path / "rm" / "reward_head.safetensors").exists()
    prompts = tmp_path / "prompts.jsonl"
    prompts.write_text('{"prompt": "ab"}\n{"prompt": "h"}\n')
    assert main(["ppo", str(base), str(prompts), str(tmp_path / "ppo"), "--reward-model", str(tmp_path / "rm"),
                 "steps=2", "max_new_tokens=4", *SMALL]) == 0
    fn = tmp_path / "score.py"
    fn.write_text("def count_a(prompts, completions):\n    return [float(c.count('a')) for c in completions]\n")
    assert main(["ppo", str(base), str(prompts), str(tmp_path / "ppo2"), "--reward-fn", f"{fn}:count_a",
                 "steps=2", "max_new_tokens=4", *SMALL]) == 0
    assert steps(tmp_path / "ppo2") == [1, 2]
    load_pretrained(tmp_path / "ppo2")


def test_bad_command_lines_get_named_errors(tmp_path, base, capsys):
    prompts = tmp_path / "prompts.jsonl"
    prompts.write_text('{"prompt": "ab"}\n')
    with pytest.raises(SystemExit):
        main(["ppo", str(base), str(prompts), str(tmp_path / "x")])
    assert "exactly one of --reward-model" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["dpo", str(base), str(prompts), str(tmp_path / "y"), "betta=0.1"])
    assert "unknown setting 'betta'" in capsys.readouterr().err


def test_a_malformed_data_line_ends_the_command_with_its_location(tmp_path, base, capsys):
    data = tmp_path / "pairs.jsonl"
    data.write_text('{"prompt": "a", "chosen": "b", "rejected": "c"}\n{"prompt": "a", "chosen": "b"}\n')
    with pytest.raises(SystemExit):
        main(["dpo", str(base), str(data), str(tmp_path / "z")])
    assert "pairs.jsonl:2: missing key 'rejected'" in capsys.readouterr().err


def test_an_aligned_run_serves_through_llmos_generate_and_llmos_serve(tmp_path, base, capsys):
    from openai import OpenAI

    from llmos.infer.engine import EngineConfig
    from llmos.serve.app import create_app
    from llmos.background_server import serve_in_background
    from llmos.serve.served_model import ServedModel
    run = tmp_path / "dpo"
    assert main(["dpo", str(base), str(pairs_file(tmp_path)), str(run), "steps=2", "lr=1e-2", *SMALL]) == 0
    model, tok = load_pretrained(run)
    greedy = tok.decode(complete(model, tok.encode("ab"), GenerationConfig(max_new_tokens=6, temperature=0)).tokens,
                        skip_special_tokens=True)
    capsys.readouterr()
    assert main(["generate", str(run), "--prompt", "ab", "--max-new-tokens", "6", "--temperature", "0"]) == 0
    assert capsys.readouterr().out == "ab" + greedy + "\n"
    served = ServedModel.load(run, name="aligned", engine_config=EngineConfig(n_slots=2))
    with serve_in_background(create_app(served)) as url:
        with OpenAI(base_url=f"{url}/v1", api_key="unused", max_retries=0, timeout=60) as client:
            out = client.completions.create(model="aligned", prompt="ab", max_tokens=6, temperature=0)
    assert out.choices[0].text == greedy


@pytest.mark.parametrize("verb", ["sft", "reward", "dpo", "ppo"])
def test_each_verbs_help_lists_every_setting_of_its_config(verb, capsys):
    import dataclasses
    import re

    from llmos.train.align.cli import DPOConfig, PPOConfig, RewardConfig, SFTConfig
    cls = {"sft": SFTConfig, "reward": RewardConfig, "dpo": DPOConfig, "ppo": PPOConfig}[verb]
    with pytest.raises(SystemExit):
        main([verb, "--help"])
    text = " ".join(capsys.readouterr().out.split())
    listed = re.search(r"Settings: (.*?)\.( |$)", text).group(1)
    names = re.findall(r"[a-z_]+(?= \(|,|;|$)", listed)
    assert sorted(names) == sorted(f.name for f in dataclasses.fields(cls))


def test_a_setting_added_to_a_config_shows_in_the_generated_list():
    import dataclasses
    from typing import Literal

    from llmos.train.align.cli import settings_help
    from llmos.train.align.loop import AlignConfig

    @dataclasses.dataclass
    class NewConfig(AlignConfig):
        tau: float = 0.5
        mode: Literal["fast", "slow"] = "fast"

    text = " ".join(settings_help(NewConfig).split())
    assert text.startswith("Settings: tau, mode (fast|slow); steps, batch_size, lr,")
