"""The suite's tasks: what to ask an agent, where it starts, and how success is judged.

Tasks live in `tasks.json` (data, not code): an instruction in plain language,
a start path, a step budget, a `check` (see `checks.py`), an `oracle` plan (see
`oracle.py`), and optionally a `setup` applied after the reset (a pre-filled
cart) and the names of the secrets the task needs (card number, CVC), which the
agent sees only as `{{secret:NAME}}` placeholders.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from importlib import resources

from llmos.agent.suite.app import SuiteState
from llmos.agent.suite.checks import CHECKS
from llmos.agent.suite.shop import BY_SLUG
from llmos.config import parse_json

SITES = ("flights", "shop", "forms")
DIFFICULTIES = ("easy", "medium", "hard")
# A test card (it passes the Luhn check; no real bank knows it) for every payment in the suite.
SECRETS = {"card_number": "4242 4242 4242 4242", "card_cvc": "7373"}


class TaskError(ValueError):
    """A task definition is malformed; the message names the task and the field."""


@dataclass(frozen=True)
class Task:
    id: str
    site: str
    difficulty: str
    instruction: str
    start: str                     # path on the suite server, e.g. "/flights/"
    max_steps: int
    check: dict
    oracle: list = field(default_factory=list)
    setup: dict = field(default_factory=dict)
    secrets: tuple = ()            # names from SECRETS the task may use
    tags: tuple = ()               # e.g. "hostile" (the path crosses a prompt-injection page)

    def secret_values(self) -> dict[str, str]:
        return {name: SECRETS[name] for name in self.secrets}

    def apply_setup(self, state: SuiteState) -> None:
        """Bring the freshly reset state to where the task begins."""
        for slug, qty in self.setup.get("cart", {}).items():
            state.shop.add(slug, qty)


def _validate(raw: dict, where: str) -> Task:
    known = {f.name for f in Task.__dataclass_fields__.values()}
    if unknown := set(raw) - known:
        raise TaskError(f"{where}: unknown field(s) {sorted(unknown)}; allowed: {sorted(known)}")
    try:
        task = Task(**{**raw, "secrets": tuple(raw.get("secrets", ())),
                       "tags": tuple(raw.get("tags", ()))})
    except TypeError as e:
        raise TaskError(f"{where}: {e}") from None
    if task.site not in SITES:
        raise TaskError(f"{where}: site {task.site!r} is not one of {SITES}")
    if task.difficulty not in DIFFICULTIES:
        raise TaskError(f"{where}: difficulty {task.difficulty!r} is not one of {DIFFICULTIES}")
    if not task.start.startswith(f"/{task.site}/"):
        raise TaskError(f"{where}: start {task.start!r} must be a path under /{task.site}/")
    if task.check.get("kind") not in CHECKS:
        raise TaskError(f"{where}: check kind {task.check.get('kind')!r} is not one of "
                        f"{sorted(CHECKS)}")
    if not 1 <= task.max_steps <= 100:
        raise TaskError(f"{where}: max_steps must be 1..100, not {task.max_steps}")
    if missing := set(task.secrets) - set(SECRETS):
        raise TaskError(f"{where}: unknown secret(s) {sorted(missing)}; known: {sorted(SECRETS)}")
    if unknown := set(task.setup) - {"cart"}:
        raise TaskError(f"{where}: setup may only hold 'cart', not {sorted(unknown)}")
    if bad := set(task.setup.get("cart", {})) - set(BY_SLUG):
        raise TaskError(f"{where}: setup cart names unknown products {sorted(bad)}")
    return task


def load_tasks(text: str | None = None) -> list[Task]:
    """Every task of the suite (or of the given JSON text), validated, in file order."""
    if text is None:
        text = resources.files("llmos.agent.suite").joinpath("tasks.json").read_text()
    raw = parse_json(text, "tasks.json", TaskError)
    tasks = [_validate(t, f"task {t.get('id', i)!r}") for i, t in enumerate(raw["tasks"])]
    ids = [t.id for t in tasks]
    if dupes := {i for i in ids if ids.count(i) > 1}:
        raise TaskError(f"duplicate task ids: {sorted(dupes)}")
    return tasks


def get_task(task_id: str, tasks: list[Task] | None = None) -> Task:
    tasks = load_tasks() if tasks is None else tasks
    for t in tasks:
        if t.id == task_id:
            return t
    raise TaskError(f"no task {task_id!r}; the suite has {', '.join(t.id for t in tasks)}")
