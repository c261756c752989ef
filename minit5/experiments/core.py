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
import multiprocessing.connection
import os
import pathlib
import platform
import signal
import sys
import threading
import time
from dataclasses import dataclass
from typing import Callable

import numpy as np

from minit5.io.atomic_file import write_text

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


def parallel_map(function, items, jobs: int) -> list:
    """`[function(x) for x in items]`, in up to `jobs` forked processes at a time when
    jobs > 1: one worker per item, given `function` and its item as arguments (fork copies
    them, so models and tokenizers are inherited, not pickled); only the result travels back,
    through a pipe. Each run is a function of its own seed, so the results are the same for
    any `jobs`. Where fork is unavailable the runs go one after another.

    Nothing is left running or waited on for ever:
    - a worker dies with its parent (Linux's parent-death signal; elsewhere the worker checks
      its parent's pid every second), so a killed `minit5 experiment` leaves none writing;
    - a worker that dies without a result (the out-of-memory killer's SIGKILL) is noticed at
      once, the others are stopped, and a WorkerDied error names the item it was running;
    - an exception in a worker stops the others and is raised again here;
    - workers ignore Ctrl-C (a terminal sends it to every process of the group): the parent
      alone gets KeyboardInterrupt, stops its workers, and raises it.
    """
    items = list(items)
    if jobs <= 1 or len(items) <= 1 or "fork" not in multiprocessing.get_all_start_methods():
        return [function(x) for x in items]
    context = multiprocessing.get_context("fork")
    waiting = list(range(len(items)))[::-1]          # popped from the end: item 0 first
    running = {}                                      # item index -> (process, pipe end)
    results = {}
    try:
        while waiting or running:
            while waiting and len(running) < jobs:
                i = waiting.pop()
                receive, send = context.Pipe(duplex=False)
                process = context.Process(target=_worker, daemon=True,
                                          args=(function, items[i], send, os.getpid()))
                process.start()
                send.close()                          # the worker holds the only write end
                running[i] = (process, receive)
            ready = multiprocessing.connection.wait([pipe for _, pipe in running.values()])
            for i, (process, pipe) in list(running.items()):
                if pipe not in ready:
                    continue
                try:
                    message = pipe.recv()
                except EOFError:                      # closed with nothing sent: it died
                    message = None
                process.join()
                pipe.close()
                del running[i]
                if message is None:
                    raise WorkerDied(_death(process, i, items))
                if message[0] == "error":
                    raise message[1]
                results[i] = message[1]
    finally:
        for process, pipe in running.values():
            _stop(process)
            pipe.close()
    return [results[i] for i in range(len(items))]


class WorkerDied(RuntimeError):
    """A worker of `parallel_map` ended without sending its result."""


def _worker(function, item, pipe, parent: int) -> None:
    """One item in a forked process: its result (or its exception) goes back through `pipe`."""
    _die_with(parent)
    signal.signal(signal.SIGINT, signal.SIG_IGN)      # Ctrl-C is the parent's to handle
    try:
        message = ("result", function(item))
    except BaseException as error:                    # sent to the parent, raised there
        message = ("error", error)
    try:
        pipe.send(message)
    except Exception as error:                        # a result or error that cannot pickle
        pipe.send(("error", RuntimeError(f"{type(message[1]).__name__}: {message[1]} "
                                         f"(it could not be sent back: {error})")))
    pipe.close()


def _die_with(parent: int) -> None:
    """End this process when `parent` dies: Linux's PR_SET_PDEATHSIG (the kernel sends
    SIGKILL), elsewhere a thread that checks the parent's pid every second."""
    try:
        import ctypes
        prctl = ctypes.CDLL(None, use_errno=True).prctl
        if prctl(1, signal.SIGKILL, 0, 0, 0) == 0:    # 1: PR_SET_PDEATHSIG
            if os.getppid() != parent:                # it died before the call above
                os._exit(1)
            return
    except (OSError, AttributeError):
        pass

    def watch():
        while os.getppid() == parent:
            time.sleep(1.0)
        os._exit(1)
    threading.Thread(target=watch, daemon=True).start()


def _death(process, i: int, items: list) -> str:
    """Which item a dead worker was running, and how it died, in words."""
    shown = repr(items[i])
    shown = shown if len(shown) <= 120 else shown[:117] + "..."
    code = process.exitcode
    if code is not None and code < 0:
        name = signal.Signals(-code).name if -code in signal.valid_signals() else str(-code)
        how = f"was killed by {name}"
        if -code == signal.SIGKILL:
            how += (" (the out-of-memory killer sends it when memory runs out: try fewer "
                    "--jobs, or free memory)")
    else:
        how = f"exited with status {code} without a result"
    return (f"the worker running {shown} (item {i + 1} of {len(items)}, pid {process.pid}) "
            f"{how}; the other workers were stopped")


def _stop(process) -> None:
    """End a worker: SIGTERM, then SIGKILL if it is still there after a few seconds."""
    if process.is_alive():
        process.terminate()
        process.join(5)
    if process.is_alive():
        process.kill()
    process.join()


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
    if not (scale > 0 and math.isfinite(scale)):
        raise ValueError(f"scale must be positive and finite (1 is the recorded budget, 0.05 a "
                         f"quick look), got {scale}")
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
    save_results(results, out, work_dir)
    from minit5.experiments.plot import plot_average
    try:
        plot_average(results, out.with_suffix(".png"))
    except OSError as e:                   # the results are written; the plot can be redrawn
        print(f"note: {e}; the results themselves are in {out}", file=sys.stderr)
    return results


class ResultsNotSaved(OSError):
    """The results file could not be written; the message says where the results went."""


RETRY_PAUSE = 1.0      # seconds between the two tries of a results write


def save_results(results: dict, out, work_dir) -> pathlib.Path:
    """Write `results` as JSON to `out` (atomically), and never lose them: a failed write is
    tried once more after RETRY_PAUSE seconds; then they are written next to the work folder
    (WORK.results.json) or, failing that too, printed on standard output; either way a
    ResultsNotSaved error says why and where they are."""
    out = pathlib.Path(out)
    text = json.dumps(results, indent=1) + "\n"
    for attempt in range(2):
        try:
            out.parent.mkdir(parents=True, exist_ok=True)
            return write_text(out, text)
        except OSError as e:
            error = e
            if attempt == 0:
                time.sleep(RETRY_PAUSE)
    spare = pathlib.Path(f"{pathlib.Path(work_dir)}.results.json")
    try:
        spare.parent.mkdir(parents=True, exist_ok=True)
        write_text(spare, text)
        where = f"they were written to {spare} instead; move that file to {out}"
    except OSError:
        print(text, end="", flush=True)
        where = f"they are printed on standard output above; save them as {out}"
    raise ResultsNotSaved(f"{error} (tried twice). The results are kept: {where}")


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
