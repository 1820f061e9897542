"""Reasoning strategies over any model: few-shot, chain-of-thought, self-consistency, Tree of
Thoughts, Socratic questioning, Self-Refine, Reflexion and ReAct, with traces, budgets,
confidence and abstention.

    from llmos.reason import CoT, SelfConsistency, OpenAIBackend, Budget
    result = SelfConsistency(CoT(), k=8).solve("Q...", OpenAIBackend("tiny", "http://127.0.0.1:8000/v1"),
                                               budget=Budget(max_calls=10), abstain_below=0.5)
    print(result.trace.render())
"""
from llmos.reason.answers import IDK, extract_answer, normalize
from llmos.reason.backend import Backend, BackendError, Params, Sample
from llmos.reason.budget import Budget, BudgetExhausted
from llmos.reason.context import Context
from llmos.reason.cot import CoT
from llmos.reason.few_shot import Exemplar, FewShot
from llmos.reason.local_backend import LocalBackend
from llmos.reason.openai_backend import OpenAIBackend
from llmos.reason.react import ReAct
from llmos.reason.reflexion import ModelJudge, Reflexion
from llmos.reason.scripted import ScriptedBackend
from llmos.reason.self_consistency import SelfConsistency, vote
from llmos.reason.self_refine import SelfRefine
from llmos.reason.socratic import Socratic
from llmos.reason.strategy import Result, Strategy
from llmos.reason.tools import Tool, ToolRegistry, calculator_tool, code_tool
from llmos.reason.tot import TextTask, ToT
from llmos.reason.trace import Trace

__all__ = ["IDK", "Backend", "BackendError", "Budget", "BudgetExhausted", "CoT", "Context", "Exemplar", "FewShot",
           "LocalBackend", "ModelJudge", "OpenAIBackend", "Params", "ReAct", "Reflexion", "Result", "Sample",
           "ScriptedBackend", "SelfConsistency", "SelfRefine", "Socratic", "Strategy", "TextTask", "ToT", "Tool",
           "ToolRegistry", "Trace", "calculator_tool", "code_tool", "extract_answer", "normalize", "vote"]
