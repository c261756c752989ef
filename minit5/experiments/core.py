"""One mechanism for every miniature: an `Experiment` says what it reproduces and how to run
it; `run_experiment` runs it for some seeds and writes the results file with its provenance.

Results file (JSON), one per experiment and scale:
  experiment, table, section, title, command   what this is and how it was made
  scale, seeds, config                         the settings (`config` must equal
                                               `experiment.config(scale)`: tests check it)
  rows        {row: [per-seed result, ...]}    everything the run measured, seed by seed
  average     {row: [per-seed score, ...]}     the headline number (0-100), one per seed
  summary     {row: {"mean", "std"}}           over seeds (std with ddof=1)
  details     anything else the run measured (e.g. pre-training curves)
  paper       {row: value}                     the paper's number for the same row
  provenance  software versions, machine, date, wall time
"""
from __future__ import annotations

import datetime
import importlib.metadata
import json
import math
import multiprocessing
import os
import pathlib
import platform
import sys
import time
from dataclasses import dataclass
from typing import Callable

import numpy as np

RESULTS_DIR = pathlib.Path("experiments") / "results"


@dataclass(frozen=True)
class Experiment:
    name: str                 # "table1": the command-line name and the results file's name
    table: str                # "Table 1"
    section: str              # "§3.1.5"
    title: str
    rows: tuple               # the paper's rows this miniature reproduces, in its order
    paper: dict               # row -> the paper's headline number (its metric in `metric`)
    metric: str               # what `average` holds, in words
    cpu_minutes: float        # measured wall time at scale 1, default seeds, 2 CPU cores
    default_seeds: int
    config: Callable          # scale -> settings (JSON types only)
    run: Callable             # (config, seeds, work_dir, device, progress, jobs) ->
                              #     {"rows", "average", "details"} as in the results file


def scaled_steps(settings: dict, scale: float) -> dict:
    """A training phase's settings at `scale`: its step count (at least 2) and its evaluation
    interval scaled, one checkpoint at the end, a log line every 10 steps."""
    n = max(2, int(round(settings["steps"] * scale)))
    every = max(1, min(n, int(round(settings["eval_every"] * scale))))
    return {**settings, "steps": n, "eval_every": every, "checkpoint_every": n, "keep_last": 1,
            "log_every": 10}


def default_jobs() -> int:
    """Parallel training runs by default: one per CPU core, at most 2 (the CPU budget's)."""
    return max(1, min(2, os.cpu_count() or 1))


_TASK = None       # (function, items) for the forked workers of parallel_map


def _call(i: int):
    function, items = _TASK
    return function(items[i])


def parallel_map(function, items, jobs: int) -> list:
    """`[function(x) for x in items]`, in `jobs` forked processes when jobs > 1. The workers
    inherit `function` and `items` (models, tokenizers) instead of unpickling them; only the
    results travel back. Each run is a function of its own seed, so the results are the same
    for any `jobs`. Where fork is unavailable the runs go one after another."""
    global _TASK
    items = list(items)
    if jobs <= 1 or len(items) <= 1 or "fork" not in multiprocessing.get_all_start_methods():
        return [function(x) for x in items]
    _TASK = (function, items)
    try:
        with multiprocessing.get_context("fork").Pool(min(jobs, len(items))) as pool:
            return pool.map(_call, range(len(items)), chunksize=1)
    finally:
        _TASK = None


def summary(values) -> dict:
    """Mean and sample standard deviation (ddof=1; 0 for a single value)."""
    values = np.asarray(values, dtype=np.float64)
    std = float(values.std(ddof=1)) if len(values) > 1 else 0.0
    return {"mean": float(values.mean()), "std": std}


def _version(distribution: str) -> str | None:
    """The installed version of a distribution, None where it is not installed."""
    try:
        return importlib.metadata.version(distribution)
    except importlib.metadata.PackageNotFoundError:
        return None


def provenance(wall_seconds: float, device: str, jobs: int = 1) -> dict:
    return {"python": sys.version.split()[0], "minit5": _version("minit5"),
            "numpy": _version("numpy"), "sentencepiece": _version("sentencepiece"),
            "cupy": _version("cupy-cuda12x") or _version("cupy"),
            "machine": f"{platform.system()} {platform.machine()}, {os.cpu_count()} CPUs "
                       f"({platform.processor() or 'unknown processor'})",
            "device": device, "jobs": jobs,
            "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
            "wall_seconds": round(wall_seconds, 1)}


def results_path(name: str, scale: float, results_dir=RESULTS_DIR) -> pathlib.Path:
    """experiments/results/NAME.json at scale 1, NAME_scale0.1.json otherwise."""
    suffix = "" if scale == 1 else f"_scale{scale:g}"
    return pathlib.Path(results_dir) / f"{name}{suffix}.json"


def _check_finite(average: dict) -> None:
    for row, values in average.items():
        if not all(math.isfinite(v) for v in values):
            raise RuntimeError(f"row {row!r} has a non-finite score {values}: a metric is "
                               "undefined somewhere; replace it by one that is defined")


def run_experiment(experiment: Experiment, scale: float = 1.0, seeds: int | None = None,
                   device: str = "default", work_dir="runs/experiments", out=None,
                   progress=False, jobs: int | None = None) -> dict:
    """Run `experiment` for seeds 0..seeds-1, `jobs` training runs at a time (default
    `default_jobs()`); write the results JSON (and a plot beside it) to `out` (default
    `results_path(name, scale)`). Returns the results."""
    if not scale > 0:
        raise ValueError(f"scale must be positive (1 is the recorded budget), got {scale}")
    seeds = experiment.default_seeds if seeds is None else seeds
    if seeds < 1:
        raise ValueError(f"seeds must be at least 1, got {seeds}")
    jobs = default_jobs() if jobs is None else jobs
    if jobs < 1:
        raise ValueError(f"jobs must be at least 1, got {jobs}")
    config = experiment.config(scale)
    started = time.perf_counter()
    outcome = experiment.run(config, list(range(seeds)), pathlib.Path(work_dir), device,
                             progress, jobs)
    _check_finite(outcome["average"])
    command = f"minit5 experiment {experiment.name} --scale {scale:g} --seeds {seeds}"
    results = {"experiment": experiment.name, "table": experiment.table,
               "section": experiment.section, "title": experiment.title, "command": command,
               "scale": scale, "seeds": list(range(seeds)), "config": config,
               "rows": outcome["rows"], "average": outcome["average"],
               "metric": experiment.metric,
               "summary": {row: summary(v) for row, v in outcome["average"].items()},
               "details": outcome.get("details", {}),
               "paper": experiment.paper,
               "provenance": provenance(time.perf_counter() - started, device, jobs)}
    out = pathlib.Path(out) if out is not None else results_path(experiment.name, scale)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(results, indent=1) + "\n")
    tmp.replace(out)
    from minit5.experiments.plot import plot_average
    plot_average(results, out.with_suffix(".png"))
    return results


def format_table(results: dict) -> str:
    """The headline table: each row's per-seed scores, mean +- std, and the paper's number."""
    seeds = results["seeds"]
    width = max([24] + [len(row) for row in results["average"]])
    head = f"{'row':<{width}} " + " ".join(f"{'seed ' + str(s):>8}" for s in seeds)
    lines = [head + f" {'mean':>7} {'std':>6} {'paper':>7}"]
    for row, values in results["average"].items():
        stats = results["summary"][row]
        paper = results["paper"].get(row)
        lines.append(f"{row:<{width}} " + " ".join(f"{v:>8.2f}" for v in values)
                     + f" {stats['mean']:>7.2f} {stats['std']:>6.2f} "
                     + (f"{paper:>7.2f}" if paper is not None else f"{'':>7}"))
    return "\n".join(lines)
