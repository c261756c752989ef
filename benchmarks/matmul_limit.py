"""How fast could a T5 train step be if it did nothing but its matrix products?

`step_matmuls(config, batch, inputs, targets)` lists every matrix product of one forward pass
as (count, m, k, n, batched): `count` products of an (m, k) by a (k, n) matrix, done as one
batched np.matmul over the stack (the per-head attention products) or one at a time (weights).
The backward pass of C = A @ B does two products of the same size, dA = dC @ B^T and
dB = A^T @ dC, so a train step does each forward product three times (every operand of every
product in T5 needs its gradient: the activations for the layers below, the weights for the
optimizer).

`matmul_bound_seconds` times NumPy on exactly those products (contiguous float32, best of a few
runs, the three layouts of forward and backward each timed), which is the time a step would
take if everything around the products (softmax, norms, masks, the embedding, the optimizer)
were free. Step time / this bound is how far a real step is from the matmul limit.
"""
from __future__ import annotations

import time

import numpy as np


def step_matmuls(config: dict, batch: int, inputs: int, targets: int) -> list[tuple]:
    """(count, m, k, n, batched) for each product of one T5 forward pass (B rows, Ls -> Lt)."""
    d, ff, H, dkv = config["d_model"], config["d_ff"], config["num_heads"], config["d_kv"]
    inner, V = H * dkv, config["vocab_size"]
    n_enc = config["num_layers"]
    n_dec = config.get("num_decoder_layers") or n_enc
    wi = 2 if config.get("feed_forward_proj", "relu").startswith("gated") else 1
    S, T = batch * inputs, batch * targets           # encoder and decoder token rows

    def attention(q_rows, kv_rows, lq, lk):
        if kv_rows is None:                      # self-attention: q, k, v from the same x
            projections = [(3, q_rows, d, inner, False)]
        else:                                    # cross-attention: k, v from the encoder
            projections = [(1, q_rows, d, inner, False), (2, kv_rows, d, inner, False)]
        return projections + [(batch * H, lq, dkv, lk, True),   # scores  (B*H, Lq, Lk)
                              (batch * H, lq, lk, dkv, True),   # @ v     (B*H, Lq, d_kv)
                              (1, q_rows, inner, d, False)]     # o

    def ffn(rows):
        return [(wi, rows, d, ff, False), (1, rows, ff, d, False)]

    shapes = []
    for _ in range(n_enc):
        shapes += attention(S, None, inputs, inputs) + ffn(S)
    for _ in range(n_dec):
        shapes += attention(T, None, targets, targets) + attention(T, S, targets, inputs) + ffn(T)
    shapes.append((1, T, d, V, False))          # lm_head (tied: the shared embedding)
    return shapes


def step_flops(shapes) -> float:
    """FLOPs of a train step (forward + backward = 3x the forward products, 2mkn each)."""
    return 3 * sum(2.0 * c * m * k * n for c, m, k, n, _ in shapes)


def _best(fn, repeats: int) -> float:
    fn()
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


def matmul_bound_seconds(shapes, repeats: int = 5) -> float:
    """Seconds NumPy takes for all products of a train step, each timed in its three layouts.

    Batched products are timed as one np.matmul over the stack, the way attention calls them;
    weight products one at a time, times their count."""
    rng = np.random.default_rng(0)
    total = 0.0
    timings: dict[tuple, float] = {}
    for key in shapes:
        count, m, k, n, batched = key
        if key not in timings:
            stack = (count,) if batched else ()
            a = rng.standard_normal(stack + (m, k), dtype=np.float32)
            b = rng.standard_normal(stack + (k, n), dtype=np.float32)
            dc = rng.standard_normal(stack + (m, n), dtype=np.float32)
            bt = np.ascontiguousarray(np.swapaxes(b, -1, -2))
            at = np.ascontiguousarray(np.swapaxes(a, -1, -2))
            seconds = (_best(lambda: a @ b, repeats) + _best(lambda: dc @ bt, repeats)
                       + _best(lambda: at @ dc, repeats))
            timings[key] = seconds if stack else seconds * count
        total += timings[key]
    return total
