"""Training checkpoints: everything needed to continue a run exactly where it stopped.

    <run>/checkpoints/step-000200/
        config.json, model.safetensors   the model, in HF format (loads with from_pretrained)
        optimizer.npz                     the optimizer's state_dict()
        trainer.json                      step, training config, seed, history so far

Each checkpoint directory is written atomically (see minit5.t5.checkpoint.atomic_directory);
only the last `keep_last` are kept, and the newest complete one is what `--resume` reads. The
data position and all randomness are functions of (seed, step) (minit5.train.streams), so the
step is the whole of the data and RNG state.
"""
from __future__ import annotations

import json
import pathlib
import shutil

import numpy as np

from minit5.t5.checkpoint import atomic_directory, write_model_files

PREFIX = "step-"


def checkpoint_dir(run_dir, step: int) -> pathlib.Path:
    return pathlib.Path(run_dir) / "checkpoints" / f"{PREFIX}{step:07d}"


def save_checkpoint(run_dir, step, model, optimizer, trainer_state: dict, keep_last: int):
    target = checkpoint_dir(run_dir, step)
    with atomic_directory(target) as staging:
        write_model_files(model, staging)
        np.savez(staging / "optimizer.npz", **optimizer.state_dict())
        (staging / "trainer.json").write_text(json.dumps({"step": step, **trainer_state},
                                                         indent=1) + "\n")
    for old in list_checkpoints(run_dir)[:-keep_last]:
        shutil.rmtree(old, ignore_errors=True)
    return target


def list_checkpoints(run_dir) -> list:
    """Complete checkpoint directories, oldest first (staging folders are hidden: skipped)."""
    root = pathlib.Path(run_dir) / "checkpoints"
    if not root.is_dir():
        return []
    return sorted(p for p in root.iterdir()
                  if p.is_dir() and p.name.startswith(PREFIX) and (p / "trainer.json").exists())


def latest_checkpoint(run_dir):
    found = list_checkpoints(run_dir)
    return found[-1] if found else None


def load_trainer_state(directory) -> dict:
    return json.loads((pathlib.Path(directory) / "trainer.json").read_text())


def load_optimizer_state(directory) -> dict:
    with np.load(pathlib.Path(directory) / "optimizer.npz") as data:
        return {key: data[key] for key in data.files}
