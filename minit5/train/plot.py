"""Loss curves as a PNG (matplotlib, no display needed)."""
from __future__ import annotations

import pathlib

from minit5.io.atomic_file import write_atomic


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
    """Write `fig` to `path` atomically (`minit5.io.atomic_file`): never half a PNG. The
    format follows the file name's suffix (.png, .pdf, .svg)."""
    path = pathlib.Path(path)
    file_format = path.suffix.lstrip(".").lower() or "png"
    return write_atomic(path, lambda f: fig.savefig(f, format=file_format))
