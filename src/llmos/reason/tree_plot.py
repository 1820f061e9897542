"""Draw a Tree of Thoughts search tree to a PNG: depth down the page, leaves across.

Kept nodes are blue, pruned grey, dead ends red, the solution green; each
node is labelled with its thought and value.
"""
from __future__ import annotations

from pathlib import Path

from llmos.reason.trace import Trace

COLOURS = {"kept": "#4c72b0", "pruned": "#bbbbbb", "dead end": "#c44e52", "solution": "#55a868",
           "open": "#dddddd"}


def layout(trace: Trace) -> dict[int, tuple[float, float]]:
    """Node id -> (x, y): leaves at 0, 1, 2, ... in tree order, a parent above its children's middle."""
    pos: dict[int, tuple[float, float]] = {}
    next_x = [0.0]

    def place(node_id: int) -> float:
        kids = trace.children(node_id)
        if not kids:
            x = next_x[0]
            next_x[0] += 1
        else:
            xs = [place(k.id) for k in kids]
            x = (min(xs) + max(xs)) / 2
        pos[node_id] = (x, -trace.nodes[node_id].depth)
        return x

    for root in (n for n in trace.nodes if n.parent is None):
        place(root.id)
    return pos


def draw_tree(trace: Trace, path: str | Path, title: str | None = None) -> Path:
    if not trace.nodes:
        raise ValueError("the trace has no search tree to draw (run a ToT strategy)")
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    pos = layout(trace)
    width = max(x for x, _ in pos.values()) + 1
    depth = max(n.depth for n in trace.nodes) + 1
    fig, ax = plt.subplots(figsize=(min(40, 2 + 1.6 * width), 1.5 + 1.4 * depth))
    for n in trace.nodes:
        if n.parent is not None:
            (x0, y0), (x1, y1) = pos[n.parent], pos[n.id]
            ax.plot([x0, x1], [y0, y1], color="#999999", lw=0.8, zorder=1)
    for n in trace.nodes:
        x, y = pos[n.id]
        ax.scatter([x], [y], s=120, color=COLOURS.get(n.status, "#dddddd"), zorder=2, edgecolors="black")
        label = (n.thought or n.state or "root")[:28]
        value = "" if n.value is None else f"\n{n.value:g}"
        ax.annotate(label + value, (x, y), textcoords="offset points", xytext=(0, -20), ha="center",
                    va="top", fontsize=6)
    ax.set_title(title or f"{trace.strategy}: {trace.question[:60]}")
    ax.axis("off")
    handles = [plt.Line2D([], [], marker="o", ls="", color=c, label=s) for s, c in COLOURS.items() if s != "open"]
    ax.legend(handles=handles, loc="upper right", fontsize=7)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110, bbox_inches="tight")
    plt.close(fig)
    return path
