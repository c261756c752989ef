"""Resume under damage: a corrupt newest checkpoint is named and the one before it is used
(still bit-exact); none readable is a clear error; a restart before the first checkpoint
starts a fresh log."""
import json
import os

import numpy as np
import pytest

from minit5.train import checkpoint as ckpt
from minit5.train.checkpoint import CheckpointWarning
from tests.train.test_trainer import config, trainer, weights

DAMAGE = {   # file -> what a bad disk or a cut copy leaves there
    "trainer.json": b"\x00garbage{",
    "optimizer.npz": b"PK\x03\x04 not really a zip",
    "model.safetensors": b"\x10\x00\x00\x00\x00\x00\x00\x00{\"a\":",
    "config.json": b"[]",
}


@pytest.fixture(scope="module")
def straight(tmp_path_factory):
    t = trainer(config(steps=6), tmp_path_factory.mktemp("straight"))
    t.train()
    return t


@pytest.mark.parametrize("name", sorted(DAMAGE))
def test_a_damaged_newest_checkpoint_falls_back_bit_exactly(tmp_path, straight, name):
    run = tmp_path / "run"
    trainer(config(steps=6), run).train()            # checkpoints at steps 3 and 6
    newest = ckpt.checkpoint_dir(run, 6)
    (newest / name).write_bytes(DAMAGE[name])
    resumed = trainer(config(steps=6), run)
    with pytest.warns(CheckpointWarning) as caught:
        assert resumed.train(resume=True) == "done"
    [message] = [str(w.message) for w in caught if issubclass(w.category, CheckpointWarning)]
    assert str(newest) in message and name in message and "step-0000003" in message
    a, b = weights(straight.model), weights(resumed.model)
    for key in a:
        np.testing.assert_array_equal(a[key], b[key], err_msg=key)
    assert [r["loss"] for r in resumed.history] == [r["loss"] for r in straight.history]
    assert ckpt.newest_good_checkpoint(run).directory == newest, "step 6 was not re-saved"


def test_no_readable_checkpoint_is_a_clear_error(tmp_path):
    run = tmp_path / "run"
    trainer(config(steps=6), run).train()
    for step in (3, 6):
        (ckpt.checkpoint_dir(run, step) / "trainer.json").write_text('{"step": "six"}')
    with pytest.raises(ValueError) as info:
        trainer(config(steps=6), run).train(resume=True)
    message = str(info.value)
    assert "no checkpoint of this run can be read" in message
    assert "step-0000003" in message and "step-0000006" in message and "'step'" in message


def test_a_checkpoint_of_another_shape_is_named(tmp_path):
    run = tmp_path / "run"
    trainer(config(steps=3), run).train()
    with pytest.raises(ValueError, match="step-0000003 does not fit this run's model"):
        trainer(config(steps=6, d_ff=48), run).train(resume=True)


class CrashAt:
    """Wraps a stream; at one step the process "dies" (an exception nothing catches)."""

    def __init__(self, inner, step):
        self.inner, self.step = inner, step

    def batch(self, step):
        if step == self.step:
            raise SystemExit("killed")
        return self.inner.batch(step)


def test_a_restart_before_the_first_checkpoint_starts_a_fresh_log(tmp_path, straight):
    run = tmp_path / "run"
    first = trainer(config(steps=6), run)
    first.stream = CrashAt(first.stream, 3)           # dies at step 3, before any checkpoint
    with pytest.raises(SystemExit):
        first.train()
    assert ckpt.latest_checkpoint(run) is None
    restarted = trainer(config(steps=6), run)
    restarted.train(resume=True)
    losses = [json.loads(line) for line in (run / "log.jsonl").read_text().splitlines()]
    steps = [r["step"] for r in losses if "loss" in r]
    assert steps == [1, 2, 3, 4, 5, 6], f"the log holds {steps}"
    assert [r["loss"] for r in losses if "loss" in r] == [r["loss"] for r in straight.history]


def test_checkpoint_folders_follow_the_umask(tmp_path):
    old = os.umask(0o022)
    try:
        trainer(config(steps=3), tmp_path / "run").train()
    finally:
        os.umask(old)
    directory = ckpt.checkpoint_dir(tmp_path / "run", 3)
    assert directory.stat().st_mode & 0o777 == 0o755
    for name in ("config.json", "model.safetensors", "optimizer.npz", "trainer.json"):
        assert (directory / name).stat().st_mode & 0o777 == 0o644, name
