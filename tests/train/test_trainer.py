"""The trainer never loses work: exact resume, NaN stop, Ctrl-C, atomic checkpoints."""
import json
import os
import signal

import numpy as np
import pytest

from minit5.train import NonFiniteLoss, TrainConfig, Trainer, apply_overrides
from minit5.train import checkpoint as ckpt
from minit5.train.pipeline import build_model, build_optimizer
from minit5.train.streams import SpanCorruptionStream

VOCAB = 64


def config(**overrides):
    base = dict(d_model=16, d_kv=4, d_ff=32, num_heads=2, num_layers=1, inputs_length=24,
                batch_size=4, steps=6, warmup_steps=2, eval_every=3, checkpoint_every=3,
                keep_last=2, log_every=1, dtype="float64", dropout_rate=0.1)
    return TrainConfig(**{**base, **overrides})


def stream(cfg):
    rng = np.random.default_rng(0)
    docs = [rng.integers(2, VOCAB - 10, size=int(n)) for n in rng.integers(10, 60, size=20)]
    return SpanCorruptionStream(docs, VOCAB, cfg.inputs_length, cfg.batch_size, cfg.seed)


def trainer(cfg, run_dir, data=None, stop=None):
    model = build_model(cfg, VOCAB)
    return Trainer(model, build_optimizer(cfg, model), data or stream(cfg), cfg, run_dir,
                   evaluate=lambda m: {"weight_sum": float(m.shared.weight.data.sum())},
                   progress=False, stop=stop)


def weights(model):
    return {k: v.copy() for k, v in model.state_dict().items()}


@pytest.mark.parametrize("optimizer", ["adafactor", "adamw"])
def test_resume_is_bit_exact(tmp_path, optimizer):
    cfg = config(optimizer=optimizer, lr=0.01)
    straight = trainer(cfg, tmp_path / "straight")
    straight.train()
    half = trainer(config(optimizer=optimizer, lr=0.01, steps=3), tmp_path / "split")
    half.train()
    resumed = trainer(cfg, tmp_path / "split")
    resumed.train(resume=True)
    assert resumed.step == 6
    a, b = weights(straight.model), weights(resumed.model)
    for key in a:
        np.testing.assert_array_equal(a[key], b[key], err_msg=key)
    assert [r["loss"] for r in straight.history] == [r["loss"] for r in resumed.history]
    steps = [json.loads(line)["step"] for line in (tmp_path / "split" / "log.jsonl").open()]
    assert steps == sorted(steps), "the log holds steps out of order after resuming"


def test_keeps_last_k_checkpoints_and_they_load(tmp_path):
    t = trainer(config(steps=9, checkpoint_every=2, keep_last=2), tmp_path / "run")
    t.train()
    names = [p.name for p in ckpt.list_checkpoints(tmp_path / "run")]
    assert names == ["step-0000008", "step-0000009"]
    from minit5 import T5ForConditionalGeneration
    T5ForConditionalGeneration.from_pretrained(ckpt.latest_checkpoint(tmp_path / "run"))
    assert (tmp_path / "run" / "loss.png").stat().st_size > 1000


class PoisonAt:
    """Wraps a stream; at one step it writes NaN into a weight, as a diverging run would."""

    def __init__(self, inner, step, model):
        self.inner, self.step, self.model = inner, step, model

    def batch(self, step):
        if step == self.step:
            self.model.shared.weight.data[:] = np.nan
        return self.inner.batch(step)


def test_nan_loss_stops_and_keeps_last_good_checkpoint(tmp_path):
    cfg = config(steps=8, checkpoint_every=3)
    t = trainer(cfg, tmp_path / "run")
    t.stream = PoisonAt(t.stream, 5, t.model)
    with pytest.raises(NonFiniteLoss, match="step 5.*last good state"):
        t.train()
    latest = ckpt.latest_checkpoint(tmp_path / "run")
    assert latest.name == "step-0000003"
    from minit5.t5.checkpoint import read_weights
    assert all(np.isfinite(w).all() for w in read_weights(latest).values())


class InterruptAt:
    """Wraps a stream; sends this process a real SIGINT while a step is being prepared."""

    def __init__(self, inner, step):
        self.inner, self.step = inner, step

    def batch(self, step):
        if step == self.step:
            os.kill(os.getpid(), signal.SIGINT)
        return self.inner.batch(step)


def test_ctrl_c_saves_and_resume_finishes_identically(tmp_path):
    """The command line's handler (minit5.commands.ctrl_c) around the trainer, as `minit5
    train` runs it; the trainer itself installs none."""
    from minit5.commands.ctrl_c import stop_on_ctrl_c
    cfg = config(steps=7, checkpoint_every=5)
    straight = trainer(cfg, tmp_path / "straight")
    straight.train()
    before = signal.getsignal(signal.SIGINT)   # SIG_IGN when pytest was started in background
    with stop_on_ctrl_c() as stop:
        t = trainer(cfg, tmp_path / "run", stop=stop)
        t.stream = InterruptAt(t.stream, 2)
        assert t.train() == "interrupted"
    assert ckpt.latest_checkpoint(tmp_path / "run").name == "step-0000002"
    resumed = trainer(cfg, tmp_path / "run")
    assert resumed.train(resume=True) == "done"
    a, b = weights(straight.model), weights(resumed.model)
    for key in a:
        np.testing.assert_array_equal(a[key], b[key], err_msg=key)
    assert signal.getsignal(signal.SIGINT) == before        # the handler is put back


def test_overrides_are_typed_and_unknown_keys_refused():
    cfg = apply_overrides(TrainConfig.preset("tiny"), ["--steps=7", "--lr=0.5", "--pack=false"])
    assert (cfg.steps, cfg.lr, cfg.pack) == (7, 0.5, False)
    with pytest.raises(ValueError, match="unknown setting --stepz.*steps"):
        apply_overrides(cfg, ["--stepz=3"])
    with pytest.raises(ValueError, match="--steps=many: expected int"):
        apply_overrides(cfg, ["--steps=many"])
    with pytest.raises(ValueError, match="optimizer"):
        apply_overrides(cfg, ["--optimizer=sgd"])
    with pytest.raises(KeyError, match="tiny"):
        TrainConfig.preset("huge")


def test_a_task_too_small_for_its_evaluation_set_is_refused():
    from minit5.data.tasks import Task
    from minit5.train.streams import TaskMixtureStream
    tiny = Task("coin", "coin: ", lambda rng: (f"coin: {int(rng.integers(2))}", "x"),
                lambda p, t: {})
    stream = TaskMixtureStream({"coin": tiny}, {"coin": 1.0}, tokenizer=None, batch_size=1,
                               seed=0, held_out=frozenset({"coin: 0", "coin: 1"}))
    with pytest.raises(RuntimeError, match="lower eval_examples"):
        stream.examples(1)


def test_the_trainer_runs_off_the_main_thread_and_stops_when_asked(tmp_path):
    """No signal handler in the library: a trainer in a worker thread runs, and a stop flag set
    by anyone finishes the step, saves it and returns "interrupted"."""
    import threading
    cfg = config(steps=7, checkpoint_every=5)
    stop = threading.Event()
    t = trainer(cfg, tmp_path / "run", stop=stop)
    inner = t.stream

    class StopAt:
        def batch(self, step):
            if step == 3:
                stop.set()
            return inner.batch(step)

    t.stream = StopAt()
    result = {}
    worker = threading.Thread(target=lambda: result.update(status=t.train()))
    worker.start()
    worker.join()
    assert result == {"status": "interrupted"}
    assert t.step == 3 and ckpt.latest_checkpoint(tmp_path / "run").name == "step-0000003"


def test_the_loss_is_read_only_at_log_steps(tmp_path, monkeypatch):
    from minit5.train import trainer as trainer_module
    reads = []
    real = trainer_module.to_numpy
    monkeypatch.setattr(trainer_module, "to_numpy", lambda a: reads.append(a.shape) or real(a))
    t = trainer(config(steps=8, log_every=4, eval_every=8, checkpoint_every=8), tmp_path / "run")
    t.train()
    assert reads == [(4,), (4,)], "expected one read of 4 losses at steps 4 and 8"
    assert [r["step"] for r in t.history] == [4, 8]
    assert all(np.isfinite(r["loss"]) for r in t.history)


def test_nan_between_reads_stops_at_the_next_read_and_saves_nothing_after_it(tmp_path):
    cfg = config(steps=12, log_every=4, eval_every=100, checkpoint_every=4)
    t = trainer(cfg, tmp_path / "run")
    t.stream = PoisonAt(t.stream, 6, t.model)
    with pytest.raises(NonFiniteLoss, match="at step 6: training stopped at step 8.*last good"):
        t.train()
    assert ckpt.latest_checkpoint(tmp_path / "run").name == "step-0000004"
