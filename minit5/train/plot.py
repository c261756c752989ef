"""Loss curves as a PNG (matplotlib, no display needed)."""
from __future__ import annotations

import pathlib


def plot_loss(histories: dict, path, title="training loss"):
    """histories: name -> list of {"step", "loss"} records. Writes `path` and returns it."""
    # A bare Figure with its own canvas: no pyplot state and no backend switch, so a notebook
    # that calls this keeps its inline figures.
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(6.4, 3.6), dpi=110)
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    for name, records in histories.items():
        steps = [r["step"] for r in records if "loss" in r]
        losses = [r["loss"] for r in records if "loss" in r]
        ax.plot(steps, losses, label=name)
    ax.set_xlabel("step")
    ax.set_ylabel("cross-entropy loss")
    ax.set_title(title)
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    return save_figure(fig, path)


def save_figure(fig, path) -> pathlib.Path:
    """Write `fig` to `path` atomically (a temporary file, then a rename): never half a PNG."""
    path = pathlib.Path(path)
    tmp = path.with_name(path.stem + ".tmp" + path.suffix)
    fig.savefig(tmp)
    tmp.replace(path)
    return path
