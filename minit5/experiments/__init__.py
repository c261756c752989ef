"""Miniatures of the paper's tables (the book's chapters on the paper's experiments), one small
module per table.

Each module defines `EXPERIMENT`, an `Experiment`: the paper's rows it reproduces, its CPU
budget, its settings as a function of the scale, and how to run one set of seeds.
`minit5 experiment NAME` runs one and writes experiments/results/NAME.json (per-seed metrics,
settings, provenance) and a plot beside it; a test ties every committed results file to the
current definition.
"""
from __future__ import annotations

import importlib

# name -> module in this package; each module's EXPERIMENT has that name.
MODULES = {name: name for name in ("table1", "table2", "table4", "table5", "table6",
                                     "table7", "table8", "table9", "table10", "table11", "table12",
                                     "table13", "recipe")}


def get(name: str):
    """The Experiment called `name`."""
    if name not in MODULES:
        raise KeyError(f"no experiment {name!r}; choose one of {', '.join(MODULES)} "
                       f"(minit5 experiment --list describes them)")
    return importlib.import_module(f"minit5.experiments.{MODULES[name]}").EXPERIMENT


def all_experiments() -> list:
    return [get(name) for name in MODULES]
