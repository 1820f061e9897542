"""`llmos agent train`, end to end: variants, demonstrations, pretraining, SFT, rollouts, DPO.

    RUN/progress.json        which stages are done, and how long each took
    RUN/demos/part-K.jsonl   oracle episodes (raw step contexts and actions), K per worker
    RUN/corpus/              pretraining text: the default corpus and the demonstrations' observations
    RUN/pretrain/            `llmos train` run: BPE tokenizer, the small decoder, model/
    RUN/sft/                 `llmos sft` run on the demonstrations (prompt = compact observation)
    RUN/rollouts.jsonl       one line per rolled-out variant, with its preference pairs
    RUN/dpo/                 `llmos dpo` run on those pairs
    RUN/model/               the policy: SFT+DPO (or SFT when no pair was found), with policy.json:
                             the confidence below which it asks (calibrate.py), and scope.json:
                             the words of the requests it learned (scope.py)

Every stage is resumable: demonstrations and rollouts append one line per
episode, the training stages are llmos run folders with checkpoints, and a
finished stage is recorded in progress.json and skipped when the command is
run again.
"""
from __future__ import annotations

import json
import multiprocessing
import shutil
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

from llmos.agent.learn.scope import SCOPE_FILE, write_scope
from llmos.config import atomic_write_text, require, require_at_least
from llmos.train.precision import cpu_precision


STAGES = ("demos", "pretrain", "sft", "rollouts", "dpo")


@dataclass
class PolicyModel:
    family: str = "llama"
    d_model: int = 192
    n_layers: int = 4
    n_heads: int = 6
    n_kv_heads: int = 2
    d_ff: int = 512
    max_seq_len: int = 1024
    vocab_size: int = 2048
    spaces_apart: bool = True       # BPE whose spaces are tokens of their own (Tokenizer.train_bpe)
    tie_embeddings: bool = True     # one matrix embeds and unembeds: a head that copies a token's vector
                                    # from the request raises that token's logit without a learned map


@dataclass
class AgentTrainConfig:
    episodes: int = 2000            # oracle demonstrations on training variants
    workers: int = 2                # processes (one Chromium each) playing demonstrations
    seed: int = 0
    model: PolicyModel = field(default_factory=PolicyModel)
    base: str = ""                  # a pretrained llmos run or HF folder to start from (skips pretraining)
    pretrain_steps: int = 600       # next-token steps on the default corpus + observations
    pretrain_batch: int = 8
    pretrain_seq_len: int = 256
    sft_steps: int = 3000
    sft_batch: int = 8
    sft_lr: float = 1e-3
    rollout_tasks: int = 24         # training variants the SFT policy is rolled out on
    samples: int = 2                # sampled alternatives per step (branching)
    temperature: float = 1.0
    verify: bool = True             # replay the first divergence with the oracle's action
    marks: bool = True              # observation: a * on each checkbox and radio the request names (observation.py)
    cues: bool = True               # observation: the request's word before each select option it names
    picks: bool = True              # observation: a * on the option whose cue is a word of its select's label
    renamed_copies: int = 2         # per demonstration step, copies with cities, dates and people renamed (augment.py)
    dpo_steps: int = 60
    dpo_batch: int = 8
    dpo_lr: float = 1e-4
    beta: float = 0.1
    dpo_sft_weight: float = 1.0     # the chosen action's NLL beside the DPO term (RPO), so few pairs do not
                                    # push the demonstrated actions down with the rejected ones
    gate_tasks: int = 24            # fresh training variants on which DPO must match SFT to be kept (gate.py);
                                    # 0 keeps DPO unchecked
    gate_steps: int = 200
    threads: int = 0                # torch CPU threads; 0 = torch's default
    precision: str = "auto"         # pretraining and SFT: auto = bf16 on a CPU with native bf16, else fp32
    until: str = "dpo"              # the last stage to run (demos, pretrain, sft, rollouts, dpo); run again to go on

    def __post_init__(self) -> None:
        if isinstance(self.model, dict):            # from a saved agent_train_config.json
            self.model = PolicyModel(**self.model)
        require_at_least(self, 1, "episodes", "workers", "sft_steps", "sft_batch", "dpo_batch", "pretrain_batch")
        require_at_least(self, 0, "renamed_copies", "gate_tasks")
        require_at_least(self, 1, "gate_steps")
        require(self.until in STAGES, "until", "one of " + ", ".join(STAGES), self.until)
        require(self.precision in ("auto", "fp32", "bf16"), "precision", "one of auto, fp32, bf16", self.precision)
        require(self.model.max_seq_len >= 256, "model.max_seq_len",
                ">= 256 (a compact observation needs a few hundred tokens)", self.model.max_seq_len)

class Progress:
    """RUN/progress.json: finished stages with their seconds, summed over interrupted invocations.

    `start(stage)` opens a stage, `tick(stage)` (called as training goes) records
    the time spent so far, so a run that is stopped and resumed still reports
    the whole time the stage took; `mark(stage)` closes it.
    """

    def __init__(self, run: Path, every_s: float = 15.0):
        self.path = run / "progress.json"
        self.data = json.loads(self.path.read_text()) if self.path.exists() else {"stages": {}}
        self.data.setdefault("partial", {})
        self.every_s = every_s
        self._t0: dict[str, float] = {}
        self._last = 0.0

    def done(self, stage: str) -> bool:
        return stage in self.data["stages"]

    def start(self, stage: str) -> None:
        self._t0[stage] = time.perf_counter()
        self._prior = float(self.data["partial"].get(stage, 0.0))

    def seconds(self, stage: str) -> float:
        return self._prior + time.perf_counter() - self._t0[stage] if stage in self._t0 else 0.0

    def tick(self, stage: str, *_) -> None:
        if time.perf_counter() - self._last >= self.every_s:
            self._last = time.perf_counter()
            self.data["partial"][stage] = round(self.seconds(stage), 1)
            self._write()

    def mark(self, stage: str, **info) -> None:
        seconds = self.seconds(stage)
        self.data["partial"].pop(stage, None)
        self.data["stages"][stage] = {"seconds": round(seconds, 1), **info}
        self._write()

    def _write(self) -> None:
        atomic_write_text(self.path, json.dumps(self.data, indent=2) + "\n")


def _collect_part(k: int, workers: int, episodes: int, seed: int, run: str) -> None:
    from llmos.agent.learn.demos import collect
    from llmos.agent.learn.generator import generate
    tasks = generate("train", episodes, seed)[k::workers]
    collect(tasks, Path(run) / "demos" / f"part-{k}.jsonl", progress=k == 0)


def demonstrations(run: Path, cfg: AgentTrainConfig) -> list:
    """Play the oracle on `cfg.episodes` training variants (in `workers` processes); all episodes."""
    from llmos.agent.learn.demos import read_episodes
    if cfg.workers == 1:
        _collect_part(0, 1, cfg.episodes, cfg.seed, str(run))
    else:
        ctx = multiprocessing.get_context("spawn")
        procs = [ctx.Process(target=_collect_part, args=(k, cfg.workers, cfg.episodes, cfg.seed, str(run)))
                 for k in range(cfg.workers)]
        for p in procs:
            p.start()
        for p in procs:
            p.join()
    return [e for k in range(cfg.workers) for e in read_episodes(run / "demos" / f"part-{k}.jsonl")]


def _all_demos(run: Path) -> list:
    from llmos.agent.learn.demos import read_episodes
    return [e for p in sorted((run / "demos").glob("part-*.jsonl")) for e in read_episodes(p)]


def sft_examples(episodes, marks: bool = False, cues: bool = False, picks: bool = False) -> list:
    from llmos.agent.learn.demos import examples
    from llmos.agent.learn.observation import render, write_action
    return examples(episodes, lambda ctx: render(ctx, marks=marks, cues=cues, picks=picks), write_action)


def write_corpus(run: Path, examples) -> Path:
    """The default corpus plus the demonstrations' prompts and actions, one document each, as text files."""
    from llmos.text.corpus import read_corpus
    folder = run / "corpus"
    folder.mkdir(parents=True, exist_ok=True)
    atomic_write_text(folder / "default.txt", "\n\n".join(read_corpus("default")))
    seen, docs = set(), []
    for e in examples:
        if e.prompt not in seen:
            seen.add(e.prompt)
            docs.append(f"{e.prompt} {e.response}")
    atomic_write_text(folder / "observations.txt", "\n\n".join(docs))
    return folder


def pretrained(run: Path, cfg: AgentTrainConfig, examples) -> Path:
    """The base model's folder: `cfg.base`, or a short `llmos train` run with a BPE tokenizer."""
    if cfg.base:
        return Path(cfg.base)
    if (run / "pretrain" / "model" / "config.json").exists():
        return run / "pretrain" / "model"
    from llmos.nn.config import ModelConfig
    from llmos.train.config import DataConfig, PretrainConfig, TrainConfig
    from llmos.train.pretrain import pretrain
    m = cfg.model
    corpus = write_corpus(run, examples)
    tokenizer = "bpe"
    if m.spaces_apart:   # the same "Paris" token in the request, on the page and in the action's JSON
        from llmos.text.corpus import read_corpus
        from llmos.text.tokenizer import Tokenizer
        folder = run / "tokenizer"
        if not (folder / "tokenizer.json").exists():
            docs = list(read_corpus("default")) + [f"{e.prompt} {e.response}" for e in examples]
            Tokenizer.train_bpe(docs, m.vocab_size, spaces_apart=True).save(folder)
        tokenizer = str(folder)
    pcfg = PretrainConfig(
        model=ModelConfig.for_family(m.family, vocab_size=m.vocab_size, d_model=m.d_model, n_layers=m.n_layers,
                                     n_heads=m.n_heads, n_kv_heads=m.n_kv_heads, d_ff=m.d_ff,
                                     max_seq_len=m.max_seq_len, tie_embeddings=m.tie_embeddings),
        data=DataConfig(corpus=str(corpus), tokenizer=tokenizer, vocab_size=m.vocab_size),
        train=TrainConfig(max_steps=max(1, cfg.pretrain_steps), batch_size=cfg.pretrain_batch,
                          seq_len=cfg.pretrain_seq_len, lr=1e-3, min_lr=1e-4,
                          warmup_steps=min(50, cfg.pretrain_steps // 5), eval_every=max(1, cfg.pretrain_steps),
                          eval_batches=4, checkpoint_every=100, log_every=10, seed=cfg.seed, device="cpu",
                          threads=cfg.threads, precision=cpu_precision(cfg.precision)),
        preset="agent-policy")
    pretrain(pcfg, run / "pretrain", resume=True)
    return run / "pretrain" / "model"


def _sft_config(cfg: AgentTrainConfig):
    from llmos.train.align.sft import SFTConfig
    n = cfg.model.max_seq_len
    return SFTConfig(steps=cfg.sft_steps, batch_size=cfg.sft_batch, lr=cfg.sft_lr, warmup_steps=50,
                     schedule="cosine", max_len=n, max_prompt_len=n - 64, save_every=50, eval_every=10**6,
                     seed=cfg.seed, precision=cpu_precision(cfg.precision), group_by_length=True)


def _dpo_config(cfg: AgentTrainConfig):
    from llmos.train.align.dpo import DPOConfig
    n = cfg.model.max_seq_len
    return DPOConfig(steps=cfg.dpo_steps, batch_size=cfg.dpo_batch, lr=cfg.dpo_lr, beta=cfg.beta,
                     sft_weight=cfg.dpo_sft_weight, max_len=n, max_prompt_len=n - 64, save_every=20,
                     eval_every=10**6, seed=cfg.seed)


def _load(folder: Path):
    from llmos.hub import load_pretrained
    return load_pretrained(folder)


def train_policy(run: str | Path, cfg: AgentTrainConfig | None = None, log=print) -> Path:
    """Run (or resume) every stage in `run` up to `cfg.until`; returns RUN/model (or, stopping early, the
    last stage's model folder, or `run` after the demonstrations)."""
    import torch

    from llmos.agent.learn.backend import PolicyBackend, read_format, write_format
    from llmos.agent.learn.generator import generate
    from llmos.agent.learn.rollouts import preference_pairs
    from llmos.train.align.data import PreferencePair, save_jsonl
    from llmos.train.align.dpo import train_dpo
    from llmos.train.align.sft import train_sft

    cfg = cfg or AgentTrainConfig()
    run = Path(run)
    run.mkdir(parents=True, exist_ok=True)
    atomic_write_text(run / "agent_train_config.json", json.dumps(asdict(cfg), indent=2) + "\n")
    if cfg.threads:
        torch.set_num_threads(cfg.threads)
    prog = Progress(run)

    if not prog.done("demos"):
        prog.start("demos")
        episodes = demonstrations(run, cfg)
        prog.mark("demos", episodes=len(episodes), successful=sum(e.success for e in episodes))
    episodes = _all_demos(run)
    examples = sft_examples(episodes, cfg.marks, cfg.cues, cfg.picks)
    log(f"demonstrations: {prog.data['stages']['demos']['episodes']} episodes, {len(examples)} steps")
    if cfg.renamed_copies:
        from llmos.agent.learn.augment import renamed_copies
        examples += renamed_copies(examples, cfg.renamed_copies, cfg.seed)
        log(f"with renamed copies: {len(examples)} examples")
    if cfg.until == "demos":
        return run

    prog.start("pretrain")
    base = pretrained(run, cfg, examples)
    if not prog.done("pretrain"):
        prog.mark("pretrain", base=str(base))
    if cfg.until == "pretrain":
        return base

    if not prog.done("sft"):
        prog.start("sft")
        model, tok = _load(base)
        save_jsonl(examples, run / "sft_data.jsonl")
        train_sft(model, tok, examples, run / "sft", _sft_config(cfg), resume=(run / "sft").exists(),
                  callback=lambda k: prog.tick("sft"))
        write_format(run / "sft" / "model", cfg.marks, cfg.cues, cfg.picks)
        prog.mark("sft", examples=len(examples))
    if cfg.until == "sft":
        return run / "sft" / "model"

    if not prog.done("rollouts"):
        prog.start("rollouts")
        policy = PolicyBackend(run / "sft" / "model")
        tasks = generate("train", cfg.rollout_tasks, cfg.seed + 1)
        pairs = preference_pairs(policy, tasks, run / "rollouts.jsonl", cfg.samples, cfg.temperature, cfg.verify,
                                 progress=lambda *_: prog.tick("rollouts"))
        rows = [json.loads(x) for x in (run / "rollouts.jsonl").read_text().splitlines() if x.strip()]
        prog.mark("rollouts", tasks=len(rows), pairs=len(pairs),
                  sft_success=round(sum(r["success"] for r in rows) / max(1, len(rows)), 3),
                  outcome_pairs=sum(p["judge"] == "outcome" for p in pairs))
    pairs = [p for x in (run / "rollouts.jsonl").read_text().splitlines() if x.strip()
             for p in json.loads(x)["pairs"]]
    if cfg.until == "rollouts":
        return run / "sft" / "model"

    final = run / "sft" / "model"
    if pairs and not prog.done("dpo"):
        prog.start("dpo")
        model, tok = _load(run / "sft" / "model")
        prefs = [PreferencePair(p["prompt"], p["chosen"], p["rejected"]) for p in pairs]
        save_jsonl(prefs, run / "dpo_data.jsonl")
        train_dpo(model, tok, prefs, run / "dpo", _dpo_config(cfg), resume=(run / "dpo").exists(),
                  callback=lambda k: prog.tick("dpo"))
        # the pairs' prompts are in the SFT policy's format (rollouts render with it), whatever cfg says now
        fmt = read_format(run / "sft" / "model")
        write_format(run / "dpo" / "model", **{k: fmt.get(k, False) for k in ("marks", "cues", "picks")})
        prog.mark("dpo", pairs=len(prefs))
    if prog.done("dpo"):
        final = run / "dpo" / "model"
        if cfg.gate_tasks and not prog.done("gate"):
            from llmos.agent.learn.demos import collect
            from llmos.agent.learn.gate import gate, write_gate
            prog.start("gate")
            fresh = collect(generate("train", cfg.gate_tasks, cfg.seed + 2), run / "gate" / "episodes.jsonl")
            verdict = gate(run / "sft" / "model", final, fresh, cfg.gate_steps, cfg.seed)
            write_gate(run, verdict)
            log(f"gate: step agreement SFT {verdict['sft']:.3f}, SFT+DPO {verdict['dpo']:.3f}; "
                f"kept {verdict['kept']}")
            prog.mark("gate", **verdict)
            prog.data["stages"].pop("calibrate", None)   # a run gated after the fact: RUN/model is copied again
        if prog.data["stages"].get("gate", {}).get("kept") == "sft":
            final = run / "sft" / "model"
    if not prog.done("calibrate"):
        from llmos.agent.learn.calibrate import calibrate
        prog.start("calibrate")
        if (run / "model").exists():
            shutil.rmtree(run / "model")
        shutil.copytree(final, run / "model")
        info = calibrate(run / "model", episodes, seed=cfg.seed)
        prog.mark("calibrate", min_confidence=info["min_confidence"], agreement=info["agreement"])
    if not (run / "model" / SCOPE_FILE).exists():                # what it learned (scope.py)
        write_scope(run / "model", [ep.steps[0].context.task for ep in episodes if ep.steps])
    prog.start("done")
    prog.data["stages"].pop("done", None)
    total = round(sum(s["seconds"] for s in prog.data["stages"].values()), 1)
    prog.mark("done", policy=str(final.relative_to(run)), total_seconds=total)
    return run / "model"
