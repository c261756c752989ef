"""Read a committed results file, the one way the book's chapters load a miniature's numbers.

    results = recorded("table10")      # experiments/results/table10.json, as a dict
    print(describe(results))           # how, where and when it was made

A name that is an experiment (`minit5.experiments.MODULES`) is checked against the settings its
definition gives now, so a chapter never reads a number the code no longer produces, and its
`paper` column is the definition's (the paper's numbers are facts about the paper, not about the
run, so a corrected transcription applies to a file recorded before it). Other files in the
folder (table1_tuning, history/table1_design1) are read as they are.
"""
from __future__ import annotations

import json
import pathlib

import minit5
from minit5.experiments import MODULES, get


def results_dir() -> pathlib.Path:
    """experiments/results/ of the checkout minit5 is imported from."""
    return pathlib.Path(minit5.__file__).resolve().parents[1] / "experiments" / "results"


def recorded(name: str, folder=None) -> dict:
    """The results file `folder`/NAME.json (default `results_dir()`); when NAME is an experiment,
    checked against its current definition and given that definition's `paper` numbers."""
    folder = results_dir() if folder is None else pathlib.Path(folder)
    path = folder / f"{name}.json"
    if not path.exists():
        if name in MODULES:
            minutes = get(name).cpu_minutes
            raise FileNotFoundError(
                f"{path} is missing: run `minit5 experiment {name}` from the repository root "
                f"(about {minutes:g} minutes on 2 CPU cores), which writes it")
        known = sorted(p.relative_to(folder).with_suffix("").as_posix()
                       for p in folder.rglob("*.json")) if folder.is_dir() else []
        raise FileNotFoundError(
            f"{path} is missing and {name!r} is not an experiment; recorded results in "
            f"{folder}: {', '.join(known) or 'none'}")
    try:
        results = json.loads(path.read_text())
    except json.JSONDecodeError as error:
        raise ValueError(f"{path} is not valid JSON ({error}): restore it with "
                         f"`git checkout {path.name}` or re-run the experiment") from None
    if name in MODULES:
        _check_current(name, results, path)
        results["paper"] = dict(get(name).paper)
    return results


def _check_current(name: str, results: dict, path: pathlib.Path) -> None:
    experiment = get(name)
    # Through JSON, so tuples in the definition compare equal to the file's lists.
    current = json.loads(json.dumps(experiment.config(results["scale"])))
    if results.get("config") != current:
        raise ValueError(
            f"{path} was made with other settings than {name}'s definition gives now: re-run "
            f"`{results.get('command', f'minit5 experiment {name}')}` and commit the new file")


def describe(results: dict) -> str:
    """Two lines: the command that made a results file, and the machine, date and wall time."""
    made = results["provenance"]
    return (f"made by: {results['command']}\n"
            f"on: {made['machine']}, {made['date']}, {made['wall_seconds'] / 60:.1f} min")
