"""The plot beside each results file: every row's per-seed scores and their mean."""
from __future__ import annotations

import pathlib

from minit5.train.plot import save_figure


def plot_average(results: dict, path) -> pathlib.Path:
    """One bar per row (the mean over seeds), a dot per seed, the paper's number as a tick."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    rows = list(results["average"])
    fig = Figure(figsize=(1.6 + 1.4 * len(rows), 3.6), dpi=110)
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    for x, row in enumerate(rows):
        values = results["average"][row]
        ax.bar(x, results["summary"][row]["mean"], width=0.6, color="#9ecae1",
               label="mean over seeds" if x == 0 else None)
        ax.scatter([x] * len(values), values, color="#08519c", zorder=3, s=14,
                   label="one seed" if x == 0 else None)
        paper = results["paper"].get(row)
        if paper is not None:
            ax.scatter([x + 0.38], [paper], marker="<", color="#d94801", zorder=3,
                       label="paper" if x == 0 else None)
    ax.set_xticks(range(len(rows)), rows)
    ax.set_ylabel(results["metric"])
    ax.set_title(f"{results['table']} in miniature ({results['command']})", fontsize=9)
    ax.grid(axis="y", alpha=0.3)
    ax.legend(fontsize=8, loc="lower right")
    fig.tight_layout()
    return save_figure(fig, path)
