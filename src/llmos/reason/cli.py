"""`llmos reason STRATEGY "question"`: run a reasoning strategy over a model; `bench` and `train`.

The model is a run folder or HF folder (`--model PATH`, in this process) or
any OpenAI-compatible server (`--base-url URL --model NAME`). A model trained
by `llmos reason train` carries a reason.json that sets the prompt format and
turns the calculator on, so `llmos reason cot "..." --model RUN` just works.

This module wires the agent's sandboxed code runner into ReAct's tools: the
reason layer itself only knows the `Tool` shape.
"""
from __future__ import annotations

import dataclasses
import json
import subprocess
import sys
from pathlib import Path
from typing import Callable, Literal

from llmos.config import ConfigError, override

STRATEGIES = ("few_shot", "cot", "self_consistency", "tot", "socratic", "self_refine", "reflexion", "react")


def make_strategy(name: str, settings: list[str], defaults: dict | None = None):
    """A strategy by name with key=value settings (`inner=socratic`, `inner.trigger=`, `k=8`, ...)."""
    from llmos import reason as r
    defaults = defaults or {}
    pairs = dict(s.split("=", 1) if "=" in s else (s, None) for s in settings)
    bad = [k for k, v in pairs.items() if v is None]
    if bad:
        raise ConfigError(f"setting {bad[0]!r} must look like key=value")
    base = {"template": defaults.get("template"), "trigger": defaults.get("trigger"),
            "stop": defaults.get("stop")}

    def plain(kind: str):
        if kind == "cot":
            s = r.CoT()
        elif kind == "few_shot":
            s = r.FewShot()
        elif kind == "socratic":
            return r.Socratic()
        elif kind == "react":
            return r.ReAct(tools=default_tools())
        elif kind == "self_refine":
            return r.SelfRefine()
        else:
            raise ConfigError(f"{kind!r} cannot be used here; choose cot, few_shot, socratic, react or self_refine")
        keep = {k: v for k, v in base.items() if v is not None and hasattr(s, k)}
        return dataclasses.replace(s, **keep)

    if name == "self_consistency":
        strategy = r.SelfConsistency(inner=plain(pairs.pop("inner", "cot")))
    elif name == "reflexion":
        strategy = r.Reflexion(actor=plain(pairs.pop("actor", "cot")))
    elif name == "tot":
        task = pairs.pop("task", "text")
        if task == "game24":
            from llmos.reason.game24 import Game24
            strategy = r.ToT(task=Game24(), breadth=5, depth=3, n_propose=32, max_thoughts=16, value_by="logprobs",
                             temperature=1.0, propose_tokens=48, value_tokens=12, stop=["\n"])   # as the bench
        elif task == "text":
            strategy = r.ToT()
        else:
            raise ConfigError(f"tot task={task!r}: choose text or game24")
    elif name in ("cot", "few_shot", "socratic", "react", "self_refine"):
        strategy = plain(name)
    else:
        raise ConfigError(f"unknown strategy {name!r}; choose one of {', '.join(STRATEGIES)}")
    if "exemplars" in pairs:
        from llmos.reason.few_shot import Exemplar
        path = Path(pairs.pop("exemplars"))
        try:
            rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
            shots = [Exemplar(row["question"], row["answer"]) for row in rows]
        except (OSError, ValueError, KeyError, TypeError) as e:
            raise ConfigError(f"exemplars={path}: need a JSONL file of {{\"question\": ..., \"answer\": ...}} "
                              f"lines ({e})") from None
        target = strategy if hasattr(strategy, "exemplars") else getattr(strategy, "inner", None)
        if target is None or not hasattr(target, "exemplars"):
            raise ConfigError(f"{name} takes no exemplars")
        target.exemplars = shots
    return override(strategy, {k.replace("-", "_"): v for k, v in pairs.items()})


def default_tools():
    """The calculator, plus the agent's sandboxed Python runner when the agent layer is installed."""
    from llmos.reason.tools import code_tool, default_tools as calc_only
    tools = calc_only()
    try:
        from llmos.agent.tools.code_runner import run_python
    except ImportError:          # pragma: no cover - agent extras missing
        return tools
    tools.add(code_tool(lambda code: run_python(code, timeout_s=10.0)))
    return tools


def make_backend(model: str | None, base_url: str | None, api_key: str | None, calculator: bool | None):
    """(backend, reason.json settings or {})."""
    from llmos.reason import LocalBackend, OpenAIBackend
    from llmos.reason.backend import BackendError
    from llmos.reason.local_backend import read_reason_config
    if base_url:
        if not model:
            raise ConfigError("--base-url needs --model NAME (the server's model id; see GET /v1/models)")
        return OpenAIBackend(model, base_url=base_url, api_key=api_key), {}
    if not model:
        raise ConfigError("give --model RUN_OR_HF_FOLDER (in process) or --base-url URL --model NAME")
    settings = read_reason_config(model) or {}
    use_calc = settings.get("calculator", False) if calculator is None else calculator
    try:
        return LocalBackend.load(model, calculator=use_calc), settings
    except BackendError as e:
        raise ConfigError(str(e)) from None


def run_strategy(name: str, question: str, model: str | None = None, base_url: str | None = None,
                 api_key: str | None = None, chat: bool = False, calculator: bool | None = None,
                 trace: bool = False, save_trace: Path | None = None, draw: Path | None = None,
                 max_calls: int | None = None, max_tokens: int | None = None, max_seconds: float | None = None,
                 abstain_below: float | None = None, seed: int | None = None, overrides: list[str] = []) -> int:
    from llmos.reason import Budget
    from llmos.reason.backend import BackendError
    backend, settings = make_backend(model, base_url, api_key, calculator)
    strategy = make_strategy(name, overrides, settings)
    asked = question
    try:
        budget = Budget(max_calls, max_tokens, max_seconds)
        result = strategy.solve(asked, backend, budget=budget, mode="chat" if chat else "completion", seed=seed,
                                abstain_below=abstain_below)
    except (BackendError, ValueError) as e:
        print(f"llmos reason {name}: {e}", file=sys.stderr)
        return 1
    if trace:
        print(result.trace.render())
    elif result.text:
        print(result.text.strip())
    conf = "" if result.confidence is None else f" (confidence {result.confidence:.2f})"
    cut = f" [cut short: {result.trace.cut_short}]" if result.cut_short else ""
    print(f"answer: {result.answer if result.answer is not None else 'no answer'}{conf}{cut}")
    spent = result.trace.spent
    print(f"spent: {spent['calls']} calls, {spent['tokens']} tokens, {spent['seconds']:.2f} s")
    if save_trace:
        print(f"trace saved to {result.trace.save(save_trace)}")
    if draw:
        from llmos.reason.tree_plot import draw_tree
        if result.trace.nodes:
            print(f"tree drawn to {draw_tree(result.trace, draw)}")
    return 0


_DOC = '''{summary}

    llmos reason {verb} "Ann has 23 pens. She loses 20. How many pens does Ann have?" --model runs/reason-word-calc
    llmos reason {verb} "..." --base-url http://127.0.0.1:8000/v1 --model tiny --trace {example}

Strategy settings go last as key=value: {settings}

Args:
    question: the question or problem.
    model: a run folder or HF folder (in process), or with --base-url the server's model name.
    base_url: an OpenAI-compatible endpoint, e.g. http://127.0.0.1:8000/v1 (llmos serve, vLLM, ...).
    api_key: the server's API key (default: $OPENAI_API_KEY).
    chat: send prompts as chat messages instead of completions.
    calculator: run <<expr=...>> calls while decoding (in-process models; default: from the model's reason.json).
    trace: print every model call, the steps and the tree.
    save_trace: write the trace as JSON to this file.
    draw: draw a Tree of Thoughts search tree to this PNG.
    max_calls: stop after this many model calls (the best answer so far is given, marked cut short).
    max_tokens: stop after this many generated tokens.
    max_seconds: stop after this much wall time.
    abstain_below: answer "I don't know" below this confidence (vote share or token probability).
    seed: base random seed for sampled calls.
    overrides: strategy settings as key=value.
'''

_VERBS = {
    "few_shot": ("Answer directly after worked exemplars, chosen or retrieved (few-shot prompting).",
                 "exemplars=FILE.jsonl k=3 retrieve=true max_tokens=64", "exemplars=shots.jsonl k=3"),
    "cot": ("Chain of thought: reason step by step, then answer (zero-shot or few-shot).",
            "trigger=\"Let's think step by step.\" exemplars=FILE.jsonl max_tokens=256 temperature=0", ""),
    "self_consistency": ("Self-consistency: sample k chains, majority vote; the vote share is the confidence.",
                         "k=8 temperature=0.7 inner=cot|socratic inner.trigger=...", "k=8"),
    "tot": ("Tree of Thoughts: propose and value thoughts, breadth-first (keep b best) or depth-first.",
            "task=text|game24 search=bfs|dfs breadth=5 depth=3 n_propose=1 n_value=3 threshold=1",
            "task=game24 breadth=5 --draw tree.png"),
    "socratic": ("Socratic questioning: recursive sub-questions to a depth limit, answers composed back up.",
                 "max_depth=2 max_subquestions=3", "max_depth=1"),
    "self_refine": ("Self-Refine: draft, feedback, refine, until 'no issues' or n rounds.",
                    "rounds=3 stop_phrase=\"no issues\"", "rounds=2"),
    "reflexion": ("Reflexion: trials judged by the model; reflections on failures go into the next trial.",
                  "trials=3 actor=cot|react", "actor=react trials=2"),
    "react": ("ReAct: Thought / Action / Observation with a calculator and a sandboxed Python tool.",
              "max_steps=6", "max_steps=4"),
}


def _verb(name: str) -> Callable[..., int]:
    def command(question: str, model: str | None = None, base_url: str | None = None, api_key: str | None = None,
                chat: bool = False, calculator: bool | None = None, trace: bool = False,
                save_trace: Path | None = None, draw: Path | None = None, max_calls: int | None = None,
                max_tokens: int | None = None, max_seconds: float | None = None,
                abstain_below: float | None = None, seed: int | None = None, overrides: list[str] = []) -> int:
        return run_strategy(name, question, model, base_url, api_key, chat, calculator, trace, save_trace, draw,
                            max_calls, max_tokens, max_seconds, abstain_below, seed, overrides)
    summary, settings, example = _VERBS[name]
    command.__doc__ = _DOC.format(summary=summary, verb=name.replace("_", "-"), settings=settings, example=example)
    command.__name__ = name
    return command


few_shot = _verb("few_shot")
cot = _verb("cot")
self_consistency = _verb("self_consistency")
tot = _verb("tot")
socratic = _verb("socratic")
self_refine = _verb("self_refine")
reflexion = _verb("reflexion")
react = _verb("react")


def train(task: Literal["word", "add", "mul", "game24"], format: Literal["direct", "cot", "calc"] = "calc",
          run_dir: Path | None = None, progress: bool = True, overrides: list[str] = []) -> int:
    """Train a small model on a synthetic reasoning task and report its held-out accuracy.

    Problems are made on the spot (llmos.text.word_problems, llmos.text.arithmetic),
    seeded, never drawn from the held-out side. The model is a small Llama-style
    decoder over characters; the run folder holds it in HF format with a
    reason.json, so `llmos reason cot "..." --model RUN` uses it at once.

        llmos reason train word --format calc                   # chain of thought with calculator calls
        llmos reason train word --format direct steps=3000
        llmos reason train add --format cot sizes=1,2,3 d_model=96

    Args:
        task: word (word problems), add (addition), mul (multiplication) or game24 (the Game of 24 mix;
            format is then not used).
        format: direct (the answer only), cot (a worked chain), calc (a chain of <<a+b=c>> calculator calls).
        run_dir: the run folder (default: runs/reason-TASK-FORMAT).
        progress: show the progress bar.
        overrides: settings of llmos.reason.train.TrainTaskConfig: steps, batch_size, d_model, n_layers,
            n_heads, d_ff, lr, sizes (operations or digits trained), eval_n, seed, threads,
            precision (fp32, bf16, or auto: bf16 where the CPU has it natively).
    """
    from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

    from llmos.reason.train import TrainTaskConfig, train_task
    try:
        cfg = override(TrainTaskConfig(task=task, format=format), overrides)
    except ValueError as e:
        raise ConfigError(str(e)) from None
    run_dir = Path(run_dir or f"runs/reason-{task}-{format}")
    with Progress(TextColumn("{task.description}"), BarColumn(), TextColumn("{task.completed}/{task.total}"),
                  TextColumn("loss {task.fields[loss]:.3f}"), TimeRemainingColumn(), disable=not progress) as bar:
        job = bar.add_task(f"train {task}/{format}", total=cfg.steps, loss=float("nan"))
        result = train_task(cfg, run_dir, lambda step, loss: bar.update(job, completed=step, loss=loss))
    for size, acc in result.accuracy.items():
        print(f"held-out accuracy, size {size}: {acc:.1%}")
    print(f"{result.params:,} parameters, {result.seconds:.0f} s; model in {run_dir / 'model'}; try: "
          f"llmos reason cot \"...\" --model {run_dir}")
    return 0


def bench(which: Literal["cot", "mirage", "game24"] = "cot", overrides: list[str] = []) -> int:
    """Run a reasoning reproduction from bench/ (a source checkout): cot, mirage or game24.

    cot: chain of thought vs direct, the error breakdown with and without the
    calculator, self-consistency and its calibration (bench/reason_cot.py).
    mirage: emergence as a mirage of the metric (bench/reason_mirage.py).
    game24: IO, CoT, CoT-SC and Tree of Thoughts on Game of 24 (bench/reason_game24.py).

    Args:
        which: the reproduction to run.
        overrides: options passed on to the script, e.g. --steps=800.
    """
    script = Path(__file__).resolve().parents[3] / "bench" / f"reason_{which}.py"
    if not script.is_file():
        raise ConfigError(f"{script} is not here; `llmos reason bench` runs from a source checkout of llmos")
    args = ["all"] if which == "cot" else []
    return subprocess.call([sys.executable, str(script), *args, *overrides])
