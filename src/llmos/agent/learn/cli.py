"""`llmos agent train | run`, and the policy side of `llmos agent bench --model RUN`."""
from __future__ import annotations

import sys
from pathlib import Path
from typing import Literal

from llmos.config import ConfigError


def train(out: Path = Path("runs/agent"), overrides: list[str] | None = None) -> int:
    """Train the agent's own web-action policy end to end (offline, resumable).

    Stages: seeded task variants on the suite's three sites; oracle demonstrations played through
    the Action API; a small llmos decoder with a BPE tokenizer pretrained on the default corpus
    and the observations (or `base=RUN`); SFT on the demonstrations; rollouts of the SFT policy
    with branching and judging (Agent Q style); DPO on the step-level preference pairs, kept only
    when its step agreement on fresh training variants is at least SFT's (gate_tasks=0: always).
    Writes OUT/model (the policy), OUT/progress.json (stages and their times) and each stage's run folder.
    Run the same command again to resume an interrupted run; `until=sft` stops after a stage (the
    next run with a later `until` goes on from there).

    Settings: episodes, workers, seed, base, pretrain_steps, pretrain_batch, pretrain_seq_len,
    sft_steps, sft_batch, sft_lr, rollout_tasks, samples, temperature, verify, dpo_steps, dpo_batch,
    dpo_lr, beta, dpo_sft_weight, gate_tasks, gate_steps, marks, cues, picks, threads,
    precision (auto, fp32, bf16), until (demos, pretrain, sft, rollouts, dpo),
    model.d_model, model.n_layers, model.n_heads, model.n_kv_heads, model.d_ff,
    model.max_seq_len, model.vocab_size, model.tie_embeddings.

    Args:
        out: the run folder to write (or resume).
        overrides: settings such as episodes=2000 sft_steps=3000 model.d_model=192.
    """
    import dataclasses
    import json

    from llmos.agent.learn.pipeline import AgentTrainConfig, train_policy
    from llmos.config import load_config, override

    saved = out / "agent_train_config.json"
    cfg = load_config(AgentTrainConfig, saved) if saved.exists() else AgentTrainConfig()
    cfg = override(dataclasses.replace(cfg, until="dpo"), overrides or [])  # `until` is per invocation
    model = train_policy(out, cfg)
    stages = json.loads((out / "progress.json").read_text())["stages"]
    for name, info in stages.items():
        print(f"{name:9} {info['seconds']:8.1f} s  " + ", ".join(f"{k}={v}" for k, v in info.items() if k != "seconds"))
    print(f"policy written to {model}" if cfg.until == "dpo" else f"stopped after {cfg.until}: {model}")
    return 0


def _policy(model: Path, choose: str = "decode"):
    from llmos.agent.learn.backend import PolicyBackend, policy_folder

    try:
        policy_folder(model)
    except FileNotFoundError as e:
        raise ConfigError(str(e)) from None
    return PolicyBackend(model, choose=choose)


def run(task: str, url: str | None = None, model: Path = Path("runs/agent"), max_steps: int = 30,
        trace_dir: Path = Path("runs/agent-sessions"), approve: bool = False,
        choose: Literal["decode", "score", "within"] = "decode") -> int:
    """Do one task in a real browser with the trained policy (no network, no outside model).

    The person's policy stays as it is by default: purchases, logins and code ask first. When the
    session pauses (ASK_USER) the question is shown and, on a terminal, the person answers
    (approve / abort / a reply); otherwise the run stops there.

    Args:
        task: the task in plain language.
        url: where the browser starts (default: a blank page; the policy then has only `done` and
            `ask_user` to choose from, since it was trained to act on pages, not to pick sites).
        model: a `llmos agent train` run folder (or an HF model folder).
        max_steps: the session's step limit.
        trace_dir: where the session's trace goes (`llmos agent trace ID --trace-dir ...` shows it).
        approve: approve every action the policy asks about without prompting.
        choose: how the policy picks each action: `score` takes the best of every action the page
            offers, each scored as a whole; `within` decodes, then scores only the other options or
            spans of the element it chose; `decode` decodes it token by token under the schema.
    """
    from llmos.agent.service import Agent, AgentConfig
    from llmos.agent.views import SessionOptions, StepStatus, UserCommand

    backend = _policy(model, choose)
    with Agent(backend, AgentConfig(trace_dir=trace_dir)) as agent:
        try:
            info = agent.create(task, url=url, options=SessionOptions(max_steps=max_steps))
        except ValueError as e:
            raise ConfigError(str(e)) from None
        result = agent.run(info.id)
        while result.status is StepStatus.ASK_USER:
            print(f"ASK_USER: {result.message}")
            if approve:
                cmd = UserCommand(kind="approve")
            elif sys.stdin.isatty():
                answer = input("approve / abort / or type a reply: ").strip()
                cmd = UserCommand(kind=answer) if answer in ("approve", "abort") else \
                    UserCommand(kind="reply", text=answer)
            else:
                break
            result = agent.run(info.id, cmd)
        steps = agent.retrieve(info.id).steps
        print(f"{result.status.value} after {steps} steps: {result.message}")
        print(f"trace: {trace_dir / info.id}")
    return 0 if result.status is StepStatus.DONE else 1


def bench_policy_cli(model: Path, splits: list[str], n: int, seed: int, output: Path,
                     oracle: bool = True, choose: str = "decode") -> int:
    """The body of `llmos agent bench --model RUN`: the policy (and the oracle) on generated splits."""
    from llmos.agent.learn.bench import bench_policy, format_policy_report, save_reports
    from llmos.agent.learn.generator import SPLITS, generate

    if bad := [s for s in splits if s not in SPLITS]:
        raise ConfigError(f"--split: unknown {bad}; choose from {', '.join(SPLITS)}")
    policy = _policy(model, choose)
    reports = []
    for split in splits:
        tasks = generate(split, n, seed)
        if oracle:
            reports.append(bench_policy("oracle", tasks, split))
        reports.append(bench_policy(policy, tasks, split))
        print(format_policy_report(reports[-2:] if oracle else reports[-1:]))
    print(f"wrote {save_reports(reports, output)}")
    return 0
