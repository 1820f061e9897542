"""Implicit preferences: a pairwise (Bradley-Terry) model of the person's choices among options.

Each choice is a list of options, each a dict of features ({"brand": "Colombian",
"departure": "morning", "price": 10.9}), and the index of the one chosen. An
option's utility is linear in its features, u(x) = w . phi(x), and the chosen
option beats each other option with the Bradley-Terry probability

    P(chosen > other) = sigmoid(u(x_chosen) - u(x_other))

so the loss is sum over pairs of -log sigmoid(w . (phi(x_c) - phi(x_o))), with an
L2 prior (w ~ N(0, 1/l2)) that keeps few choices from giving confident
weights. The fit runs again, warm-started, after every new choice (online:
each update is a few Newton steps on a handful of weights). Categorical
features become indicators ("brand=Colombian"); numeric ones are standardised
over the options seen.

`explain` says what was learned in the person's terms, from counts, not
weights: "prefers morning departure: chose 7 of 8" (8 choices offered a morning
option; 7 times the choice was one).
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

L2 = 0.3
UNSURE = 0.6       # top option's probability below this: ask the person


def _indicators(option: dict) -> dict[str, float]:
    out = {}
    for k, v in option.items():
        if k.startswith("_"):                      # "_label" and the like describe, not predict
            continue
        if isinstance(v, bool):
            out[k] = float(v)
        elif isinstance(v, (int, float)):
            out[k] = float(v)
        else:
            out[f"{k}={v}"] = 1.0
    return out


@dataclass
class ChoiceModel:
    l2: float = L2
    names: list[str] = field(default_factory=list)
    w: np.ndarray = field(default_factory=lambda: np.zeros(0))
    choices: list[tuple[list[dict], int]] = field(default_factory=list)
    _scale: dict[str, tuple[float, float]] = field(default_factory=dict)

    # ------------------------------------------------------------------ features

    def _refresh_features(self) -> None:
        names, numeric = set(), {}
        for options, _ in self.choices:
            for o in options:
                for k, v in _indicators(o).items():
                    names.add(k)
                    if "=" not in k and not isinstance(o.get(k), bool):
                        numeric.setdefault(k, []).append(v)
        self._scale = {k: (float(np.mean(v)), float(np.std(v)) or 1.0) for k, v in numeric.items()}
        old = dict(zip(self.names, self.w))
        self.names = sorted(names)
        self.w = np.array([old.get(n, 0.0) for n in self.names])

    def phi(self, option: dict) -> np.ndarray:
        x = np.zeros(len(self.names))
        feats = _indicators(option)
        for j, n in enumerate(self.names):
            if n in feats:
                v = feats[n]
                if n in self._scale:
                    mu, sd = self._scale[n]
                    v = (v - mu) / sd
                x[j] = v
        return x

    # ------------------------------------------------------------------ fitting

    def observe(self, options: list[dict], chosen: int) -> None:
        """Add one choice and refit (warm start)."""
        if not 0 <= chosen < len(options):
            raise ValueError(f"chosen index {chosen} is outside the {len(options)} options")
        self.choices.append((options, chosen))
        self.fit()

    def fit(self, steps: int = 8) -> None:
        self._refresh_features()
        if not self.choices or not self.names:
            return
        # D: one row per (chosen, other) pair, phi(chosen) - phi(other)        (P, F)
        D = np.array([self.phi(opts[c]) - self.phi(o) for opts, c in self.choices
                      for j, o in enumerate(opts) if j != c])
        if D.size == 0:
            return
        w = self.w
        for _ in range(steps):   # Newton's method on the convex BT log-likelihood + L2
            p = 1 / (1 + np.exp(-D @ w))                           # P(chosen wins), (P,)
            grad = -D.T @ (1 - p) + self.l2 * w                    # (F,)
            hess = (D.T * (p * (1 - p))) @ D + self.l2 * np.eye(len(w))
            w = w - np.linalg.solve(hess, grad)
        self.w = w

    # ------------------------------------------------------------------ use

    def utilities(self, options: list[dict]) -> np.ndarray:
        return np.array([self.phi(o) @ self.w for o in options]) if len(self.w) else np.zeros(len(options))

    def rank(self, options: list[dict]) -> list[tuple[int, float]]:
        """(index, probability of being the person's pick) best first (softmax of utilities)."""
        u = self.utilities(options)
        p = np.exp(u - u.max())
        p = p / p.sum()
        return sorted(((i, float(p[i])) for i in range(len(options))), key=lambda t: -t[1])

    def confident(self, options: list[dict]) -> bool:
        return bool(self.choices) and self.rank(options)[0][1] >= UNSURE

    def explain(self, top: int = 5, min_weight: float = 0.3) -> list[dict]:
        """What was learned, in words, strongest first, each with the counts behind it."""
        out = []
        for j in np.argsort(-np.abs(self.w)):
            name, weight = self.names[j], float(self.w[j])
            if abs(weight) < min_weight or "=" not in name:
                continue
            key, value = name.split("=", 1)
            offered = chose = 0
            for opts, c in self.choices:
                has = [_indicators(o).get(name, 0.0) > 0 for o in opts]
                if any(has) and not all(has):        # a real choice about this feature
                    offered += 1
                    chose += has[c]
            if offered == 0:
                continue
            verb = "prefers" if weight > 0 else "avoids"
            n = chose if weight > 0 else offered - chose
            what = value if key == "item" else f"{value} {key}"   # "morning departure", "Colombian brand"
            out.append({"feature": name, "weight": round(weight, 3), "chose": chose, "offered": offered,
                        "text": f"{verb} {what}: chose {n} of {offered}" if weight > 0 else
                                f"{verb} {what}: passed it over {n} of {offered}"})
            if len(out) >= top:
                break
        return out


def fit_choices(choices: list[dict], l2: float = L2) -> ChoiceModel:
    """A model fitted to stored choices (dicts with "options" and "chosen")."""
    model = ChoiceModel(l2=l2)
    model.choices = [(c["options"], c["chosen"]) for c in choices]
    model.fit(steps=12)
    return model

