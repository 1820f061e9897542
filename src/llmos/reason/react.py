"""ReAct (Yao et al. 2023): interleave Thought, Action and Observation until `finish`.

    Question: Tom has 23 apples and gives away 20. How many are left?
    Thought: I subtract.
    Action: calculator[23-20]
    Observation: 3                                  <- the tool's output, written by us, not the model
    Thought: I know the answer.
    Action: finish[3]

Each step is one call that stops before "Observation:", so the model never
invents the tool's output. An action that cannot be parsed is answered with an
observation that explains the format; a step limit ends the run (the last
observation's content is then offered as the best guess).
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from llmos.reason.answers import extract_answer
from llmos.reason.context import Context
from llmos.reason.strategy import Result, Strategy
from llmos.reason.tools import ToolRegistry, default_tools

_ACTION = re.compile(r"Action\s*:\s*(\w+)\s*\[(.*)\]", re.S)


def parse_action(text: str) -> tuple[str, str] | None:
    """The last `Action: name[input]` in `text`, or None."""
    start = text.rfind("Action")
    m = _ACTION.match(text, start) if start >= 0 else None    # the input may span lines (code)
    return (m.group(1), m.group(2).strip()) if m else None


@dataclass
class ReAct(Strategy):
    tools: ToolRegistry = field(default_factory=default_tools)
    max_steps: int = 6
    instructions: str = ("Answer the question by interleaving Thought, Action and Observation steps. "
                         "Actions are:\n{tools}\nfinish[answer]: give the final answer\n")
    examples: str = ""                 # worked Thought/Action/Observation examples, if any
    max_tokens: int = 128
    numeric: bool = True
    name: str = "react"

    def run(self, question: str, ctx: Context) -> Result:
        head = self.instructions.format(tools=self.tools.describe()) + self.examples
        transcript = f"Question: {question}\n"
        for _ in range(self.max_steps):
            out = ctx.text(head + transcript + "Thought:", "step", max_tokens=self.max_tokens,
                           stop=["\nObservation:", "Observation:"])
            transcript += "Thought:" + out.rstrip() + "\n"
            thought = out.split("Action")[0].strip()
            if thought:
                ctx.trace.step("thought", thought)
            action = parse_action(out)
            if action is None:
                final = re.search(r"Final Answer\s*:\s*(.+)", out, re.I)
                if final:
                    answer = extract_answer(final.group(1), self.numeric) or final.group(1).strip()
                    ctx.trace.step("finish", answer)
                    return Result(answer, None, ctx.trace, transcript, [answer])
                observation = "no action found; write `Action: tool[input]` or `Action: finish[answer]`"
            else:
                name, argument = action
                ctx.trace.step("action", f"{name}[{argument}]")
                if name == "finish":
                    answer = extract_answer(argument, self.numeric) or argument or None
                    return Result(answer, None, ctx.trace, transcript, [answer])
                observation = self.tools.call(name, argument)
            ctx.trace.step("observation", observation)
            ctx.offer(extract_answer(observation, self.numeric))
            transcript += f"Observation: {observation}\n"
        ctx.trace.notes["stopped"] = f"no finish action in {self.max_steps} steps"
        answer = ctx.best[0] if ctx.best else None
        return Result(answer, None, ctx.trace, transcript, [answer])
