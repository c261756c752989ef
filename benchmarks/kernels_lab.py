"""Kernel lab (after llm.c's dev/cuda): every fused kernel is checked, then timed.

For each kernel of minit5/kernels, at t5-small and t5-base shapes: build inputs on the GPU, run
the kernel and its reference (the composed CuPy ops, the same maths NumPy runs), print the max
relative error, then time both with CUDA events: median of N runs after a warm-up.

    python benchmarks/kernels_lab.py [--models t5-small t5-base] [--dtype float32]
                                     [--repeats 50] [--batch 8] [--out results.json]

Nothing is written unless --out is given. Without a GPU it says so, checks each NumPy reference
against the composed ops of minit5.functional (what tests/kernels checks with hypothesis) and
exits 0 (1 if a reference disagrees).
"""
from __future__ import annotations

import argparse
import statistics
import sys

import numpy as np

from minit5 import T5Config, backend
from minit5 import functional as F
from minit5.autograd import Tensor
from minit5.kernels import adafactor_update, attention_softmax, cross_entropy, gated_gelu, rms_norm
from minit5.nn import Parameter
from minit5.optim import Adafactor

TOLERANCE = {"float32": 1e-5, "float64": 1e-12}


def relative_error(actual, expected):
    a = backend.to_numpy(actual).astype(np.float64)
    e = backend.to_numpy(expected).astype(np.float64)
    return float(np.abs(a - e).max() / max(np.abs(e).max(), 1e-30))


# ---- cases: (name, shape label, output names, fused(), composed()) at a model's shapes -----
def cases(config, batch, xp, dtype, seed=0):
    """Each case's two functions return the same outputs, as a tuple named by `outputs`, each
    compared on its own (an error in dx cannot hide behind a good dweight); inputs are built
    once, here."""
    rng = np.random.default_rng(seed)

    def draw(*shape, scale=1.0):
        return xp.asarray(rng.standard_normal(shape) * scale, dtype=dtype)

    d, d_ff, heads, vocab = config.d_model, config.d_ff, config.num_heads, config.vocab_size
    length, target = 512, 128                                      # T5 pre-training lengths
    scores, bias = draw(batch, heads, length, length, scale=3.0), draw(1, heads, length, length)
    y = attention_softmax.reference_forward(scores, bias)
    g_scores = draw(batch, heads, length, length)
    yield ("attention_softmax fwd", f"({batch},{heads},{length},{length})", ("y",),
           lambda: (attention_softmax.forward(scores, bias),),
           lambda: (attention_softmax.reference_forward(scores, bias),))
    yield ("attention_softmax bwd", f"({batch},{heads},{length},{length})", ("dx",),
           lambda: (attention_softmax.backward(y, g_scores),),
           lambda: (attention_softmax.reference_backward(y, g_scores),))

    x, w, g_x = draw(batch, length, d), draw(d), draw(batch, length, d)
    _, rstd = rms_norm.reference_forward(x, w)
    yield ("rms_norm fwd", f"({batch},{length},{d})", ("y", "rstd"),
           lambda: rms_norm.forward(x, w), lambda: rms_norm.reference_forward(x, w))
    yield ("rms_norm bwd", f"({batch},{length},{d})", ("dx", "dweight"),
           lambda: rms_norm.backward(g_x, x, w, rstd),
           lambda: rms_norm.reference_backward(g_x, x, w, rstd))

    logits = draw(batch * target, vocab, scale=4.0)
    labels = xp.asarray(rng.integers(0, vocab, batch * target))
    labels[::10] = -100
    _, lse = cross_entropy.reference_forward(logits, labels)
    yield ("cross_entropy fwd", f"({batch * target},{vocab})", ("loss", "lse"),
           lambda: cross_entropy.forward(logits, labels),
           lambda: cross_entropy.reference_forward(logits, labels))
    yield ("cross_entropy bwd", f"({batch * target},{vocab})", ("dlogits",),
           lambda: (cross_entropy.backward(logits, labels, lse, 1.0 / (batch * target)),),
           lambda: (cross_entropy.reference_backward(logits, labels, lse,
                                                     1.0 / (batch * target)),))

    a, b, g_h = draw(batch, length, d_ff, scale=3.0), draw(batch, length, d_ff), \
        draw(batch, length, d_ff)
    yield ("gated_gelu fwd", f"({batch},{length},{d_ff})", ("h",),
           lambda: (gated_gelu.forward(a, b),), lambda: (gated_gelu.reference_forward(a, b),))
    yield ("gated_gelu bwd", f"({batch},{length},{d_ff})", ("da", "db"),
           lambda: gated_gelu.backward(g_h, a, b),
           lambda: gated_gelu.reference_backward(g_h, a, b))

    for rows, cols in ((vocab, d), (d_ff, d)):                     # embedding, FFN weight
        param, grad = draw(rows, cols), draw(rows, cols)
        row, col = xp.abs(draw(rows)), xp.abs(draw(cols))

        def step(update, param=param, grad=grad, row=row, col=col):
            p, r, c = param.copy(), row.copy(), col.copy()
            update(p, grad, r, c, 1e-2, 0.5, 1e-30, 1.0)
            return p - param, r, c                                 # the step taken, the state
        yield ("adafactor_update", f"({rows},{cols})", ("step", "row state", "column state"),
               lambda step=step: step(adafactor_update.update),
               lambda step=step: step(adafactor_update.reference_update))


def time_ms(fn, repeats, warmup=3):
    """Median milliseconds of fn() on the current stream, by CUDA events."""
    import cupy
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeats):
        start, end = cupy.cuda.Event(), cupy.cuda.Event()
        start.record()
        fn()
        end.record()
        end.synchronize()
        times.append(cupy.cuda.get_elapsed_time(start, end))
    return statistics.median(times)


def run_gpu(args):
    import cupy
    rows = []
    print(f"{'kernel':24s} {'model':9s} {'shape':22s} {'max rel err':>11s} {'fused ms':>9s} "
          f"{'composed ms':>11s} {'speed-up':>8s}")
    for model in args.models:
        config = T5Config.preset(model)
        for name, shape, outputs, fused, composed in cases(config, args.batch, cupy,
                                                            args.dtype):
            errors = {output: relative_error(got, want)            # check before timing
                      for output, got, want in zip(outputs, fused(), composed(), strict=True)}
            error = max(errors.values())
            ok = error <= TOLERANCE[args.dtype]
            t_fused, t_composed = time_ms(fused, args.repeats), time_ms(composed, args.repeats)
            rows.append(dict(kernel=name, model=model, shape=shape, dtype=args.dtype,
                             rel_errors=errors, max_rel_error=error, ok=ok, fused_ms=t_fused,
                             composed_ms=t_composed))
            worst = max(errors, key=errors.get)
            print(f"{name:24s} {model:9s} {shape:22s} {error:11.2e}{'' if ok else '!'} "
                  f"{t_fused:9.3f} {t_composed:11.3f} {t_composed / t_fused:7.2f}x"
                  + (f"   (worst: {worst})" if len(errors) > 1 else ""))
            cupy.get_default_memory_pool().free_all_blocks()
    if args.out:
        from minit5.io import write_json
        device = cupy.cuda.runtime.getDeviceProperties(cupy.cuda.Device().id)["name"]
        write_json(args.out, {"device": device.decode() if isinstance(device, bytes) else device,
                              "repeats": args.repeats, "batch": args.batch, "results": rows})
        print(f"wrote {args.out}")
    return 0 if all(r["ok"] for r in rows) else 1


# ---- no GPU: the references against minit5.functional, in float64 --------------------------
def check_references(seed=0):
    """(name, max relative error) of each reference against minit5's autograd ops composed
    one by one (and the optimizer for Adafactor's step)."""
    rng = np.random.default_rng(seed)
    s, b, g = rng.standard_normal((2, 3, 5, 7)), rng.standard_normal((1, 3, 5, 7)), \
        rng.standard_normal((2, 3, 5, 7))
    scores = Tensor(s, requires_grad=True)
    out = F.softmax(scores + Tensor(b), axis=-1)
    out.backward(g)
    y = attention_softmax.reference_forward(s, b)
    yield "attention_softmax", max(relative_error(y, out.data), relative_error(
        attention_softmax.reference_backward(y, g), scores.grad))

    xv, wv, gv = rng.standard_normal((4, 9)), rng.standard_normal(9), rng.standard_normal((4, 9))
    x, w = Tensor(xv, requires_grad=True), Tensor(wv, requires_grad=True)
    out = w * x * ((x * x).mean(axis=-1, keepdims=True) + 1e-6).rsqrt()   # composed ops
    out.backward(gv)
    y, rstd = rms_norm.reference_forward(xv, wv)
    gx, gw = rms_norm.reference_backward(gv, xv, wv, rstd)
    yield "rms_norm", max(relative_error(y, out.data), relative_error(gx, x.grad),
                          relative_error(gw, w.grad))

    z = Tensor(rng.standard_normal((6, 11)), requires_grad=True)
    labels = np.array([3, -100, 0, 10, 5, -100])
    counted = np.flatnonzero(labels != -100)
    m = Tensor(z.data.max(axis=1, keepdims=True))
    lse = m + (z - m).exp().sum(axis=1, keepdims=True).log()                # composed ops
    loss = (lse[counted, 0] - z[counted, labels[counted]]).sum() / len(counted)
    loss.backward()
    rows, lse = cross_entropy.reference_forward(z.data, labels)
    yield "cross_entropy", max(relative_error(rows.sum() / 4, loss.data), relative_error(
        cross_entropy.reference_backward(z.data, labels, lse, 0.25), z.grad))

    a, bb = Tensor(s, requires_grad=True), Tensor(g, requires_grad=True)
    (F.gelu_new(a) * bb).backward(s)
    da, db = gated_gelu.reference_backward(s, s, g)
    yield "gated_gelu", max(relative_error(gated_gelu.reference_forward(s, g),
                                           (F.gelu_new(Tensor(s)) * Tensor(g)).data),
                            relative_error(da, a.grad), relative_error(db, bb.grad))

    weight, grad = rng.standard_normal((5, 4)), rng.standard_normal((5, 4))
    p = Parameter(weight.copy())
    p.grad = grad
    Adafactor([p], lr=1e-2, relative_step=False, min_dim_size_to_factor=0).step()
    ours = weight.copy()
    alpha = 1e-2 * max(1e-3, float(np.sqrt((weight ** 2).mean())))   # scale_parameter
    adafactor_update.reference_update(ours, grad, np.zeros(5), np.zeros(4), alpha,
                                      1.0 - 1.0 ** -0.8, 1e-30, 1.0)
    yield "adafactor_update", relative_error(ours - weight, p.data - weight)


def run_cpu():
    print(f"No GPU here ({backend._why_no_gpu()}); nothing to time.\n"
          "Checking each kernel's NumPy reference against composed minit5 ops (float64):")
    worst = 0.0
    for name, error in check_references():
        print(f"  {name:20s} max relative error {error:.1e}")
        worst = max(worst, error)
    return 0 if worst <= TOLERANCE["float64"] else 1


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", nargs="+", default=["t5-small", "t5-base"])
    parser.add_argument("--dtype", choices=sorted(TOLERANCE), default="float32")
    parser.add_argument("--repeats", type=int, default=50)
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--out", help="write the results as JSON to this file")
    args = parser.parse_args(argv)
    return run_gpu(args) if backend.gpu_available() else run_cpu()


if __name__ == "__main__":
    sys.exit(main())
