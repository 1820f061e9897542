"""The agent's data types: everything that crosses a boundary, in one place.

What the model proposes (`Action`), what it is shown (`Observation`), what a
step reports (`StepResult`), what the person answers (`UserCommand`), and the
policy settings a person gives a session (`PolicyConfig`). The same types are
the HTTP API's request and response bodies, the trace's records and the
scripted backend's currency, so a test oracle, a real model and a remote client
all speak one language.

Actions name page elements by the `index` the last `Observation` gave them.
"""
from __future__ import annotations

import hashlib
import json
from enum import Enum
from typing import Annotated, Any, Literal, Union

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, field_validator


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


# ----------------------------------------------------------------------------- actions


class _ActionBase(_Strict):
    thought: str = Field("", description="the model's short reason; never acted on")

    def key(self) -> str:
        """A stable hash of what the action does (not why), for loop detection."""
        body = self.model_dump(exclude={"thought"})
        return hashlib.sha1(json.dumps(body, sort_keys=True).encode()).hexdigest()[:16]


class ClickAction(_ActionBase):
    type: Literal["click"] = "click"
    element: int = Field(..., ge=0, description="index from the observation")


class TypeAction(_ActionBase):
    type: Literal["type"] = "type"
    element: int = Field(..., ge=0)
    text: str = Field(..., description="replaces the field's value; may hold {{secret:NAME}}")
    press_enter: bool = False


class SelectAction(_ActionBase):
    type: Literal["select"] = "select"
    element: int = Field(..., ge=0)
    option: str = Field(..., description="the option's visible text (or its value)")


class ScrollAction(_ActionBase):
    type: Literal["scroll"] = "scroll"
    direction: Literal["down", "up"] = "down"
    pages: float = Field(1.0, gt=0, le=10, description="how many viewport heights")


class NavigateAction(_ActionBase):
    type: Literal["navigate"] = "navigate"
    url: str = Field(..., min_length=1)


class BackAction(_ActionBase):
    type: Literal["back"] = "back"


class ExtractAction(_ActionBase):
    type: Literal["extract"] = "extract"
    query: str = Field("", description="words to look for; empty = the whole page text")


class DoneAction(_ActionBase):
    type: Literal["done"] = "done"
    answer: str = ""
    success: bool = True


class AskUserAction(_ActionBase):
    type: Literal["ask_user"] = "ask_user"
    question: str = Field(..., min_length=1)


class RunCodeAction(_ActionBase):
    type: Literal["run_code"] = "run_code"
    code: str = Field(..., min_length=1)
    language: Literal["python"] = "python"


class ToolAction(_ActionBase):
    """Call a mounted tool (an external MCP server's, see `llmos.agent.mcp.mount`) by its mounted name."""

    type: Literal["tool"] = "tool"
    name: str = Field(..., pattern=r"^[\w-]+\.[\w.-]+$", description="<mount>.<tool>")
    arguments: dict[str, Any] = {}


class MemorySearchAction(_ActionBase):
    """Search the person's long-term memory (facts, preferences, past sessions) by words and meaning."""

    type: Literal["memory_search"] = "memory_search"
    query: str = Field(..., min_length=1)
    kind: Literal["any", "fact", "preference", "session", "message", "step", "outcome"] = "any"
    k: int = Field(5, ge=1, le=20)


class MemorySaveAction(_ActionBase):
    """Keep a fact or preference; a new value `about` a topic (seat, diet, home_city...) supersedes the old."""

    type: Literal["memory_save"] = "memory_save"
    text: str = Field(..., min_length=1)
    about: str = Field("", description="the memory's key: one value per key stays current")
    value: str = ""
    kind: Literal["fact", "preference"] = "fact"
    confidence: float = Field(1.0, ge=0, le=1, description="below 0.8 the person is asked first")


class MemoryUpdateAction(_ActionBase):
    """Correct memory #id; the old version is kept as its history."""

    type: Literal["memory_update"] = "memory_update"
    id: int = Field(..., ge=1)
    text: str = ""
    value: str = ""


Action = Annotated[
    Union[ClickAction, TypeAction, SelectAction, ScrollAction, NavigateAction, BackAction,
          ExtractAction, DoneAction, AskUserAction, RunCodeAction, MemorySearchAction,
          MemorySaveAction, MemoryUpdateAction, ToolAction],
    Field(discriminator="type"),
]
ACTION_ADAPTER: TypeAdapter[Any] = TypeAdapter(Action)
ACTION_TYPES = ("click", "type", "select", "scroll", "navigate", "back", "extract", "done",
                "ask_user", "run_code", "memory_search", "memory_save", "memory_update",
                "tool")


def parse_action(data: dict[str, Any] | str) -> Action:
    """Validate a dict (or JSON text) as one of the `Action` variants."""
    if isinstance(data, str):
        return ACTION_ADAPTER.validate_json(data)
    return ACTION_ADAPTER.validate_python(data)


# ----------------------------------------------------------------------------- observation


class Element(_Strict):
    """One visible interactive element, as the model sees it."""

    index: int
    tag: str                          # "button", "a", "input", "select", "textarea", ...
    role: str                         # ARIA role, explicit or implied: button, link, textbox, ...
    label: str                        # accessible name (aria-label, <label>, text, placeholder, ...)
    value: str = ""                   # current value; selected option text; "***" for passwords
    input_type: str | None = None     # <input type=...>
    options: list[str] = []           # <select> option texts
    checked: bool | None = None       # checkboxes and radios
    disabled: bool = False
    href: str | None = None           # links: absolute URL
    form: str | None = None           # the enclosing form's name, for context ("checkout", "login")
    in_viewport: bool = True


class Observation(_Strict):
    url: str = ""
    title: str = ""
    elements: list[Element] = []
    text: str = ""                    # short summary of the visible text (untrusted page content)
    pixels_above: int = 0
    pixels_below: int = 0

    def fingerprint(self) -> str:
        """Hash of the page state (url, elements with values, text): same page, same hash."""
        body = json.dumps([self.url, [e.model_dump() for e in self.elements], self.text],
                          sort_keys=True)
        return hashlib.sha1(body.encode()).hexdigest()[:16]

    def element(self, index: int) -> Element | None:
        for e in self.elements:
            if e.index == index:
                return e
        return None


# ----------------------------------------------------------------------------- safety


class ActionClass(str, Enum):
    READ = "read"
    NAVIGATE = "navigate"
    TYPE = "type"
    SUBMIT = "submit"
    PURCHASE = "purchase"
    LOGIN = "login"
    RUN_CODE = "run_code"
    TOOL = "tool"                 # a mounted MCP tool; each is ruled on by name in PolicyConfig.tools


class Decision(str, Enum):
    ALLOW = "allow"
    ASK = "ask"
    DENY = "deny"


def _default_rules() -> dict[ActionClass, Decision]:
    return {
        ActionClass.READ: Decision.ALLOW,
        ActionClass.NAVIGATE: Decision.ALLOW,
        ActionClass.TYPE: Decision.ALLOW,
        ActionClass.SUBMIT: Decision.ALLOW,
        ActionClass.PURCHASE: Decision.ASK,
        ActionClass.LOGIN: Decision.ASK,
        ActionClass.RUN_CODE: Decision.ASK,
    }


class PolicyConfig(_Strict):
    """What the person allows. Set when the session is created; page text never reaches it.

    `rules` gives a decision per action class (classes left out keep their
    default: read, navigate, type and submit allowed; purchase, login and
    run_code asked); `domains` overrides it for a
    host (`{"shop.example": {"purchase": "allow"}}`); `allowed_domains` lists
    the hosts the agent may act on or go to (None = the start URL's host only;
    `["*"]` = anywhere), and `off_allowlist` says what happens elsewhere.
    """

    rules: dict[ActionClass, Decision] = Field(default_factory=_default_rules)
    domains: dict[str, dict[ActionClass, Decision]] = {}
    allowed_domains: list[str] | None = None
    off_allowlist: Decision = Decision.DENY
    tools: dict[str, Decision] = {}   # mounted tool name -> decision; a tool left out is asked about

    @field_validator("rules")
    @classmethod
    def _complete(cls, rules: dict[ActionClass, Decision]) -> dict[ActionClass, Decision]:
        """Classes a person leaves out keep their default rule."""
        return {**_default_rules(), **rules}


class PolicyVerdict(_Strict):
    action_class: ActionClass
    decision: Decision
    reason: str


# ----------------------------------------------------------------------------- steps


class StepStatus(str, Enum):
    CONTINUE = "CONTINUE"
    DONE = "DONE"
    ASK_USER = "ASK_USER"
    FAILED = "FAILED"


class UserCommand(_Strict):
    """The person's answer to an `ASK_USER` step.

    approve: do the pending action. edit: do `action` instead. abort: end the
    session (FAILED). reply: answer the agent's question with `text`.
    """

    kind: Literal["approve", "edit", "abort", "reply"]
    action: Action | None = None
    text: str = ""


class StepResult(_Strict):
    session_id: str
    step: int
    status: StepStatus
    message: str
    url: str = ""
    action: Action | None = None
    verdict: PolicyVerdict | None = None
    pending: Action | None = None          # ASK_USER: the action awaiting approval, if any
    screenshot: str | None = None          # base64 PNG


class SessionOptions(_Strict):
    """Per-session settings a person (or HTTP client) may give at creation."""

    policy: PolicyConfig = Field(default_factory=PolicyConfig)
    secrets: dict[str, str] = {}           # name -> value; used as {{secret:name}}
    max_steps: int = Field(30, ge=1)
    max_seconds: float = Field(600.0, gt=0)
    screenshots: bool = False
    person: str = Field("me", pattern=r"^[A-Za-z0-9_.-]{1,64}$",
                        description="whose long-term memory the session reads and writes")


class SessionInfo(_Strict):
    id: str
    input: str
    start_url: str | None = None
    status: StepStatus
    steps: int
    url: str = ""
    created_at: float
    last_active: float
    trace_path: str | None = None


# ----------------------------------------------------------------------------- model I/O


class ChatMessage(_Strict):
    role: Literal["system", "user", "assistant"]
    content: str


class HistoryItem(_Strict):
    step: int
    action: Action | None
    outcome: str
    url: str = ""


class StepContext(_Strict):
    """Everything the model is deciding from, typed (a scripted policy reads this)."""

    task: str
    step: int
    observation: Observation
    history: list[HistoryItem] = []
    notes: list[str] = []                  # extracted text, the person's replies, nudges
    secret_names: list[str] = []
    memory: str = ""                       # core blocks, preferences and recalled memories (if on)


class ModelRequest(_Strict):
    messages: list[ChatMessage]
    context: StepContext


class ModelReply(_Strict):
    text: str
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    action: Action | None = None           # a scripted backend may hand back a typed action
