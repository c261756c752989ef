"""Data parallelism: N processes (ranks) each take a share of the global batch; one all-reduce
per step sums their gradients, so every rank applies the update of the whole batch.

    mpiexec -n 2 minit5 train pretrain --run runs/dp      # CPUs: mpi4py (pip install minit5[dist])
    MINIT5_DEVICE=gpu mpiexec -n 2 minit5 train ...        # GPUs: NCCL, one GPU per rank

`world(device)` is the communicator of this process: `Single` when it was not started by
mpiexec (nothing changes, mpi4py is not imported), `MPIWorld` on CPUs, `NCCLWorld` on GPUs
(cupyx.distributed for the gradients, mpi4py for start-up and small host messages).

Why the result does not depend on N:
- Every rank builds the same global batch of step s (the streams are functions of (seed, s))
  and keeps the contiguous rows `share_bounds` gives it.
- The loss of a step is the mean over the scored tokens of the WHOLE batch. Rank r scales its
  own mean loss by n_r / n (its scored tokens over the batch's), so the sum over ranks of the
  scaled losses, and of their gradients, is the single-process loss and gradient; a mean of
  per-rank means would weight rows of short targets too heavily.
- Dropout draws each mask for the whole batch from the step's Generator and keeps the rank's
  rows (`functional.DropoutMasks` with `rows`), so a row's mask is the same for every N. Every
  dropout site of the model has the batch on its first axis.
What is left is rounding: float additions in another order (per-rank sums, then the
all-reduce), about 1e-16 relative per step in float64 and 1e-7 in float32.
"""
from __future__ import annotations

import hashlib
import json

import numpy as np

from minit5 import backend
from minit5.backend import get_array_module
from minit5.functional import DropoutMasks
from minit5.labels import IGNORE_INDEX


def launched_by_mpiexec() -> bool:
    """Whether mpiexec started this process (read once at import: `backend.SWITCHES`)."""
    return backend.SWITCHES.mpiexec


def share_bounds(rows: int, size: int, rank: int) -> slice:
    """The contiguous rows of a global batch of `rows` that rank `rank` of `size` computes."""
    if rows < size:
        raise ValueError(f"the batch has {rows} rows but {size} processes share it: every "
                         f"process needs at least one row; use --batch_size >= {size} or fewer "
                         "processes (mpiexec -n)")
    return slice(rows * rank // size, rows * (rank + 1) // size)


def config_digest(config: dict) -> str:
    return hashlib.sha256(json.dumps(config, sort_keys=True).encode()).hexdigest()


class Communicator:
    """What the trainer needs from the ranks: `size`, `rank`, `allreduce_sum` (of one flat
    array, in place), `any` (of a host bool) and `allgather` (of small host objects)."""

    size, rank = 1, 0

    @property
    def is_root(self) -> bool:
        return self.rank == 0

    def share(self, batch):
        """(this rank's rows of `batch`, the weight n_r / n of its mean loss)."""
        if self.size == 1:
            return batch, 1.0
        mine = batch[share_bounds(len(batch), self.size, self.rank)]
        return mine, float(token_shares(batch.labels, self.size)[self.rank])

    def dropout_masks(self, generator, global_rows: int) -> DropoutMasks:
        """The step's dropout randomness on this rank: masks drawn from `generator` for the
        whole batch of `global_rows` rows, of which this rank keeps its own."""
        if self.size == 1:
            return DropoutMasks(generator)
        return DropoutMasks(generator, global_rows,
                            share_bounds(global_rows, self.size, self.rank))

    def reduce_gradients(self, parameters, loss):
        """Sum the gradients of `parameters` and the (weighted) `loss` over the ranks, in one
        flat buffer; the gradients are replaced in place, the summed loss is returned. A
        parameter no rank has a gradient for keeps None (the optimizer skips it, as with
        one process); the buffer counts, per parameter, the ranks that have one."""
        if self.size == 1:
            return loss
        parameters = list(parameters)
        xp = get_array_module(loss)
        dtype = parameters[0].data.dtype
        grads = [xp.zeros_like(p.data) if p.grad is None else p.grad for p in parameters]
        have = xp.asarray([p.grad is not None for p in parameters], dtype=dtype)   # (P,)
        flat = xp.concatenate([g.reshape(-1) for g in grads]
                              + [have, xp.asarray(loss, dtype=dtype).reshape(1)])
        self.allreduce_sum(flat)
        start = 0
        for p, g in zip(parameters, grads):
            p.grad = flat[start:start + g.size].reshape(g.shape)
            start += g.size
        for p, count in zip(parameters, flat[start:start + len(parameters)].tolist()):
            if count == 0:
                p.grad = None
        return flat[-1].astype(loss.dtype)

    def check_same_config(self, config: dict):
        """Raise, on every rank, if the ranks were started with different settings."""
        if self.size == 1:
            return
        configs = self.allgather(config)
        digests = [config_digest(c) for c in configs]
        if len(set(digests)) == 1:
            return
        differ = sorted(k for k in set().union(*configs)
                        if len({json.dumps(c.get(k)) for c in configs}) > 1)
        raise ValueError(f"the {self.size} processes were started with different training "
                         f"settings ({', '.join(differ)}): give every rank the same command "
                         "line (mpiexec -n N minit5 train ...)")

    def barrier(self):
        """Wait until every rank is here (rank 0 wrote a file the others read next)."""


class Single(Communicator):
    """One process: no MPI, nothing to reduce."""

    def allreduce_sum(self, flat):
        return flat

    def any(self, flag: bool) -> bool:
        return bool(flag)

    def allgather(self, value):
        return [value]


class MPIWorld(Communicator):
    """The ranks of mpiexec on CPUs, through mpi4py (MPI.COMM_WORLD)."""

    def __init__(self, comm):
        self.comm = comm
        self.size, self.rank = comm.Get_size(), comm.Get_rank()

    def allreduce_sum(self, flat):
        from mpi4py import MPI
        self.comm.Allreduce(MPI.IN_PLACE, flat, op=MPI.SUM)
        return flat

    def any(self, flag: bool) -> bool:
        from mpi4py import MPI
        return bool(self.comm.allreduce(int(bool(flag)), op=MPI.SUM))

    def allgather(self, value):
        return self.comm.allgather(value)

    def barrier(self):
        self.comm.Barrier()


class NCCLWorld(MPIWorld):
    """The ranks of mpiexec on GPUs: gradients through NCCL (cupyx.distributed), one GPU per
    rank (the rank's index among the ranks of its machine); start-up and small host messages
    through mpi4py. Untested here: written without a GPU to run it on."""

    def __init__(self, comm):
        super().__init__(comm)
        import cupy
        from cupyx import distributed
        from mpi4py import MPI
        local_rank = comm.Split_type(MPI.COMM_TYPE_SHARED).Get_rank()
        cupy.cuda.Device(local_rank % cupy.cuda.runtime.getDeviceCount()).use()
        self.nccl = distributed.init_process_group(self.size, self.rank, backend="nccl",
                                                   use_mpi=True)

    def allreduce_sum(self, flat):
        self.nccl.all_reduce(flat, flat, op="sum")
        return flat


def scored_tokens(batch) -> int:
    """Decoder positions the loss counts (labels other than -100)."""
    return int((np.asarray(batch.labels) != IGNORE_INDEX).sum())


def token_shares(labels, size: int) -> np.ndarray:
    """The weight n_r / n of each rank's mean loss, float64 (size,).

    labels: int (B, T), the global batch's labels (-100 where the loss ignores a position).
    Rank r holds the rows `share_bounds(B, size, r)` and n_r of the batch's n scored tokens;
    scaling its mean loss by n_r / n makes the sum over ranks the mean over the whole batch's
    tokens, for any padding. The weights sum to 1, or are all 0 when no token is scored.
    """
    labels = np.asarray(labels)
    if labels.ndim != 2:
        raise ValueError(f"labels must be a 2-D (batch, target length) array, got shape "
                         f"{labels.shape}")
    if isinstance(size, bool) or not isinstance(size, (int, np.integer)) or size < 1:
        raise ValueError(f"size is the number of processes, a whole number >= 1; got {size!r}")
    scored = (labels != IGNORE_INDEX).sum(axis=1)                       # (B,)
    per_rank = np.array([scored[share_bounds(len(labels), size, r)].sum()
                         for r in range(size)], dtype=np.float64)       # (size,)
    total = per_rank.sum()
    return per_rank / total if total else np.zeros(size)


_WORLD = None


def world(device: str = "cpu") -> Communicator:
    """This process's communicator (made once): Single unless started by mpiexec."""
    global _WORLD
    if _WORLD is not None:
        return _WORLD
    if not launched_by_mpiexec():
        _WORLD = Single()
        return _WORLD
    try:
        from mpi4py import MPI
    except ImportError:
        raise RuntimeError("this process was started by mpiexec but mpi4py is not installed: "
                           "install minit5[dist] (pip install -e \".[dist]\"), which brings "
                           "mpi4py and Open MPI") from None
    _WORLD = NCCLWorld(MPI.COMM_WORLD) if device == "gpu" else MPIWorld(MPI.COMM_WORLD)
    return _WORLD
