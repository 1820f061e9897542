"""CounterFact-style evaluation of fact edits on the synthetic-facts model (ROME, sec. 4).

For each counterfactual edit "subject -> new object" (a known fact, rewritten):

    Efficacy      P(new) > P(old) on the edit prompt
    Paraphrase    P(new) > P(old) on the relation's other templates (the held-out one included)
    Neighborhood  on other subjects' prompts for the same relation, P(their object) > P(new):
                  the edit must not leak to them
    Score         harmonic mean of the three

Methods, all on the same layer's MLP output matrix W:
    rome   the rank-one update of rome.py
    ft     fine-tune W on the edit prompt's target NLL (unconstrained)
    ft_l   the same with every entry kept within eps of its old value (L-infinity ball)
"""
from __future__ import annotations

import random
from dataclasses import dataclass, field
from statistics import harmonic_mean, mean

import torch

from llmos.interp.facts_model import FactsModel
from llmos.interp.rome import EditRequest, RomeConfig, ffn_of, keys_and_proj, rome_edit
from llmos.text.facts import Fact


@dataclass
class EditCase:
    fact: Fact
    new: str
    template: int                    # the edit prompt's template
    paraphrases: list[int]
    neighbors: list[Fact]


@dataclass
class EditScores:
    efficacy: list[float] = field(default_factory=list)
    paraphrase: list[float] = field(default_factory=list)
    neighborhood: list[float] = field(default_factory=list)

    def summary(self) -> dict[str, float]:
        e, p, n = mean(self.efficacy), mean(self.paraphrase), mean(self.neighborhood)
        return dict(efficacy=e, paraphrase=p, neighborhood=n, score=harmonic_mean([e, p, n]) if min(e, p, n) > 0 else 0.0,
                    edits=len(self.efficacy))


def make_cases(lab: FactsModel, n: int, seed: int = 0, n_neighbors: int = 10,
               subject_first: bool = False) -> list[EditCase]:
    """n edits of facts the model knows on their edit template, each to another object.

    The edit template is the fact's first training template, or with `subject_first` its
    first training template that starts with the subject ("{} plays the sport of", as in
    ROME's own requests); the paraphrases are all the others, subject-in-the-middle ones
    and the held-out one included.
    """
    rng = random.Random(seed)
    world = lab.world
    facts = list(world.facts)
    rng.shuffle(facts)
    cases = []
    for f in facts:
        train = world.train_templates(f)
        first = [t for t in train if world.templates[f.relation][t].startswith("{}")]
        template = (first or train)[0] if subject_first else train[0]
        if not lab.known(f, template):
            continue
        vocab = lab.tokenizer.backend.get_vocab()
        new = rng.choice([o for o in world.objects[f.relation] if o != f.object and o in vocab])
        others = [i for i in range(len(world.templates[f.relation])) if i != template]
        pool = [g for g in world.same_relation(f) if g.object != new]
        cases.append(EditCase(f, new, template, others, rng.sample(pool, min(n_neighbors, len(pool)))))
        if len(cases) == n:
            break
    return cases


def score_case(lab: FactsModel, case: EditCase, scores: EditScores) -> None:
    world, f = lab.world, case.fact
    new, old = lab.token(case.new), lab.token(f.object)
    prompts = [world.prompt(f, case.template)] + [world.prompt(f, t) for t in case.paraphrases]
    nb_prompts = [world.prompt(g, world.train_templates(g)[0]) for g in case.neighbors]
    probs = lab.next_probs(prompts + nb_prompts)
    wins = (probs[:, new] > probs[:, old]).float()
    scores.efficacy.append(float(wins[0]))
    scores.paraphrase.append(float(wins[1:len(prompts)].mean()))
    nb = probs[len(prompts):]
    own = torch.tensor([lab.token(g.object) for g in case.neighbors])
    scores.neighborhood.append(float((nb[torch.arange(len(own)), own] > nb[:, new]).float().mean()))


def ft_edit(lab: FactsModel, case: EditCase, layer: int, steps: int = 25, lr: float = 5e-3,
            linf: float | None = None):
    """Fine-tune the layer's MLP output matrix on the edit prompt; returns a function that undoes it."""
    model = lab.model
    _, proj = keys_and_proj(ffn_of(model, layer), torch.zeros(1, model.config.d_model))
    old = proj.weight.detach().clone()
    ids = torch.tensor([lab.ids(lab.world.prompt(case.fact, case.template))])
    target = torch.tensor([lab.token(case.new)])
    opt = torch.optim.Adam([proj.weight], lr=lr)
    for p in model.parameters():
        p.requires_grad_(p is proj.weight)
    try:
        for _ in range(steps):
            loss = torch.nn.functional.cross_entropy(model(ids, last_only=True).logits[:, -1].float(), target)
            opt.zero_grad()
            loss.backward()
            opt.step()
            if linf is not None:                                        # FT-L: |W - W0|_inf <= eps
                with torch.no_grad():
                    proj.weight.copy_(old + (proj.weight - old).clamp(-linf, linf))
    finally:
        for p in model.parameters():
            p.requires_grad_(True)

    def undo() -> None:
        with torch.no_grad():
            proj.weight.copy_(old)
    return undo


def evaluate_method(lab: FactsModel, cases: list[EditCase], method: str, layer: int, cov=None,
                    prefixes=(), rome_cfg: RomeConfig | None = None, ft_lr: float = 5e-3,
                    ft_l_eps: float = 5e-3, progress=None) -> dict[str, float]:
    """Edit each case alone (then undo it) and return the averaged CounterFact metrics."""
    scores = EditScores()
    encode = lambda text: lab.tokenizer.encode(text, add_special_tokens=False)  # noqa: E731
    for i, case in enumerate(cases):
        if method == "rome":
            req = EditRequest(lab.world.templates[case.fact.relation][case.template], case.fact.subject, case.new)
            result = rome_edit(lab.model, encode, req, cov, prefixes, rome_cfg or RomeConfig(layer=layer),
                               bos=[lab.tokenizer.eos_id])
            undo = result.undo
        elif method in ("ft", "ft_l"):
            undo = ft_edit(lab, case, layer, lr=ft_lr, linf=ft_l_eps if method == "ft_l" else None)
        else:
            raise ValueError(f"unknown method {method!r}; use rome, ft or ft_l")
        with torch.no_grad():
            score_case(lab, case, scores)
        undo()
        if progress is not None:
            progress(i + 1, len(cases))
    return scores.summary()
