"""Training checkpoints: everything needed to continue a run exactly where it stopped.

    <run>/checkpoints/step-000200/
        config.json, model.safetensors   the model, in HF format (loads with from_pretrained)
        optimizer.npz                     the optimizer's state_dict()
        trainer.json                      step, training config, seed, history so far

Each checkpoint directory is written atomically (minit5.io.atomic_directory); only the last
`keep_last` are kept. `--resume` reads the newest checkpoint that reads back whole: one that is
damaged (a bad disk, a hand edit, a copy cut short) is reported by name with a warning and the
one before it is used, which is why more than one is kept. The data position and all
randomness are functions of (seed, step) (minit5.train.streams), so the step is the whole of
the data and RNG state.
"""
from __future__ import annotations

import json
import pathlib
import shutil
import warnings
import zipfile
from dataclasses import dataclass

import numpy as np

from minit5.io.atomic_directory import atomic_directory, checkpoint_file, read_whole
from minit5.t5.checkpoint import CONFIG, check_finite, read_weights, write_model_files
from minit5.t5.config import T5Config

PREFIX = "step-"
TRAINER = "trainer.json"
OPTIMIZER = "optimizer.npz"


class CheckpointWarning(UserWarning):
    """A checkpoint of the run could not be read, and an older one is used instead."""


@dataclass
class TrainingCheckpoint:
    directory: pathlib.Path
    weights: dict              # name -> NumPy array
    optimizer: dict            # the optimizer's state_dict()
    trainer: dict              # trainer.json: step, config, history, evals


def checkpoint_dir(run_dir, step: int) -> pathlib.Path:
    return pathlib.Path(run_dir) / "checkpoints" / f"{PREFIX}{step:07d}"


def _step_of(directory: pathlib.Path) -> int:
    return int(directory.name[len(PREFIX):])


def save_checkpoint(run_dir, step, model, optimizer, trainer_state: dict, keep_last: int):
    target = checkpoint_dir(run_dir, step)
    with atomic_directory(target) as staging:
        write_model_files(model, staging)
        np.savez(staging / OPTIMIZER, **optimizer.state_dict())
        (staging / TRAINER).write_text(json.dumps({"step": step, **trainer_state},
                                                  indent=1) + "\n", encoding="utf-8")
    # Prune only checkpoints older than this one: after a fall-back past a damaged newer one,
    # that one stays until this run overwrites it.
    older = [p for p in list_checkpoints(run_dir) if _step_of(p) <= step]
    for old in older[:-keep_last]:
        shutil.rmtree(old)
    return target


def list_checkpoints(run_dir) -> list:
    """Checkpoint directories that have a trainer.json, oldest first."""
    root = pathlib.Path(run_dir) / "checkpoints"
    if not root.is_dir():
        return []
    return sorted(p for p in root.iterdir()
                  if p.is_dir() and p.name.startswith(PREFIX) and p.name[len(PREFIX):].isdigit()
                  and checkpoint_file(p, TRAINER).is_file())


def latest_checkpoint(run_dir):
    found = list_checkpoints(run_dir)
    return found[-1] if found else None


def load_trainer_state(directory) -> dict:
    """trainer.json, checked: a JSON object whose step matches the folder's name."""
    directory = pathlib.Path(directory)
    path = checkpoint_file(directory, TRAINER)
    try:
        state = json.loads(path.read_bytes().decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise ValueError(f"{path} is not JSON ({e})") from None
    if not isinstance(state, dict):
        raise ValueError(f"{path} holds a JSON {type(state).__name__}, not an object")
    kinds = {"step": int, "config": dict, "history": list, "evals": list}
    for key, kind in kinds.items():
        if not isinstance(state.get(key), kind):
            raise ValueError(f"{path}: {key!r} is missing or not a {kind.__name__}")
    if directory.name.startswith(PREFIX) and state["step"] != _step_of(directory):
        raise ValueError(f"{path} says step {state['step']} but lives in {directory.name}")
    return state


def load_optimizer_state(directory) -> dict:
    path = checkpoint_file(pathlib.Path(directory), OPTIMIZER)
    with open(path, "rb") as f:       # opened here, so a bad archive cannot leak the handle
        try:
            data = np.load(f, allow_pickle=False)
            if not hasattr(data, "files"):
                raise ValueError("it holds one array, not an archive of the optimizer's state")
            return {key: data[key] for key in data.files}
        except (ValueError, EOFError, zipfile.BadZipFile) as e:
            raise ValueError(f"{path} is not a readable .npz archive ({e})") from None


def read_checkpoint(directory) -> TrainingCheckpoint:
    """Every file of one training checkpoint, read and checked (ValueError/OSError naming it)."""
    directory = pathlib.Path(directory)

    def read():
        trainer = load_trainer_state(directory)
        T5Config.from_json_file(checkpoint_file(directory, CONFIG))   # --init and eval read it
        return trainer, read_weights(directory), load_optimizer_state(directory)

    trainer, weights, optimizer = read_whole(directory, read)   # one checkpoint, whole
    check_finite(weights, directory)
    return TrainingCheckpoint(directory, weights, optimizer, trainer)


def newest_good_checkpoint(run_dir):
    """The newest checkpoint of the run that reads back whole, or None if there are none.

    Each damaged one on the way is reported with a CheckpointWarning naming it and why; if
    every one is damaged, a ValueError lists them all.
    """
    found = list_checkpoints(run_dir)
    problems = []
    for directory in reversed(found):
        try:
            checkpoint = read_checkpoint(directory)
        except (OSError, ValueError) as e:
            problems.append(f"{directory}: {e}")
            continue
        for problem in problems:
            warnings.warn(f"skipping a damaged checkpoint: {problem}; resuming from the older "
                          f"{directory}", CheckpointWarning, stacklevel=2)
        return checkpoint
    if problems:
        raise ValueError("no checkpoint of this run can be read:\n  " + "\n  ".join(problems)
                         + f"\nStart the run again without --resume (in a new --run folder), "
                         f"or restore {pathlib.Path(run_dir) / 'checkpoints'} from a backup")
    return None
