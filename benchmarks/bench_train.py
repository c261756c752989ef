"""A train step (forward + backward) and a forward pass, minit5 vs transformers' T5.

CPU (default): every shape in CPU_SHAPES (the demo's tiny model, the benchmark model at 128,
256 and 512 input tokens, t5-small's shape), or the ones named with `--shape`. For each: the
median step time of each, the median of the pairwise ratios minit5 / PyTorch (below 1: minit5
is faster), the fraction of the matmul limit (`matmul_limit.py`: the time NumPy needs for the
step's matrix products alone, over minit5's step time), and the peak resident memory of a
fresh process that builds the model and runs three steps (with `--memory`).

GPU (`--device gpu`): t5-small or t5-base shapes with a batch sized for the card (`--batch`),
CuPy vs PyTorch eager on CUDA, plus tokens/s, model FLOP utilisation (the step's matmul FLOPs,
`matmul_limit.step_flops`, over the card's float32 peak) and peak memory in use (CuPy's pool's
high-water mark; torch's max_memory_allocated).

Same weights (minit5 loads the checkpoint transformers wrote), same batch, same process, runs
alternating between the two. Both use float32 and, on a CPU, the same number of threads.

    python benchmarks/bench_train.py [--shape tiny --shape bench-128 ...] [--repeats 15] [--memory]
    python benchmarks/bench_train.py --device gpu --shape t5-small --batch 64 [--peak-tflops 67]
                                     [--json results.json]
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile

import numpy as np
from matmul_limit import matmul_bound_seconds, step_flops, step_matmuls
from timing import timed

CONFIG = dict(vocab_size=8192, d_model=256, d_ff=1024, num_heads=4, d_kv=64, num_layers=4,
              feed_forward_proj="relu", dropout_rate=0.0, decoder_start_token_id=0)
T5_SMALL = dict(d_model=512, d_ff=2048, num_heads=8, d_kv=64, num_layers=6)
TINY = dict(vocab_size=2000, d_model=128, d_ff=512, num_heads=4, d_kv=32, num_layers=2,
            feed_forward_proj="relu", dropout_rate=0.0, decoder_start_token_id=0)
# name: (config, batch, input tokens, target tokens, repeats)
CPU_SHAPES = {
    "tiny": (TINY, 32, 64, 16, 31),                 # the demo's model and batch
    "bench-128": (CONFIG, 8, 128, 32, 15),
    "bench-256": (CONFIG, 8, 256, 64, 11),
    "bench-512": (CONFIG, 8, 512, 128, 7),
    "t5-small": ({**CONFIG, **T5_SMALL, "vocab_size": 32128}, 4, 128, 32, 5),
}
GPU_SHAPES = {"t5-small": T5_SMALL,
              "t5-base": dict(d_model=768, d_ff=3072, num_heads=12, d_kv=64, num_layers=12)}
GPU_INPUTS, GPU_TARGETS = 512, 114      # T5's pre-training lengths (512 -> 114 targets)


def main(argv=None):
    parser = argparse.ArgumentParser()
    parser.add_argument("--device", choices=["cpu", "gpu"], default="cpu")
    parser.add_argument("--shape", action="append",
                        help=f"CPU: any of {', '.join(CPU_SHAPES)} (repeatable; default all); "
                             f"GPU: one of {', '.join(GPU_SHAPES)}")
    parser.add_argument("--repeats", type=int, help="alternating pairs (default: per shape)")
    parser.add_argument("--threads", type=int, default=os.cpu_count())
    parser.add_argument("--memory", action="store_true",
                        help="CPU: also measure each side's peak RSS in a fresh process")
    parser.add_argument("--batch", type=int, default=32, help="GPU batch size")
    parser.add_argument("--peak-tflops", type=float, default=67.0,
                        help="the card's float32 peak, for MFU (H100 SXM: 67)")
    parser.add_argument("--json", help="GPU: also write the results to this JSON file")
    parser.add_argument("--peak-rss-of", choices=["minit5", "torch"], help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.peak_rss_of:                       # the child process of --memory
        return peak_rss_child(args.peak_rss_of, args.shape[0], args.threads)
    if args.device == "gpu":
        return main_gpu(args)
    shapes = args.shape or list(CPU_SHAPES)
    unknown = [name for name in shapes if name not in CPU_SHAPES]
    if unknown:
        parser.error(f"unknown CPU shape {unknown[0]!r}; choose from {', '.join(CPU_SHAPES)}")

    import torch
    import transformers
    torch.set_num_threads(args.threads)
    print(f"minit5 vs transformers {transformers.__version__} (torch {torch.__version__}), "
          f"CPU, {args.threads} threads, NumPy {np.__version__}, float32")
    print(f"{'shape':<10} {'batch':>14} {'pairs':>5} {'minit5 s':>9} {'torch s':>9} "
          f"{'ratio':>6} {'fwd ratio':>9} {'matmul s':>9} {'of limit':>8} {'GFLOP/s':>8}")
    results = {}
    for name in shapes:
        config, batch, inputs, targets, repeats = CPU_SHAPES[name]
        repeats = args.repeats or repeats
        step, forward = compare(config, batch, inputs, targets, repeats, "cpu", torch)
        matmuls = step_matmuls(config, batch, inputs, targets)
        bound = matmul_bound_seconds(matmuls)
        row = dict(step=step, forward=forward, matmul_bound_s=bound,
                   fraction_of_limit=bound / step[0], flops=step_flops(matmuls))
        if args.memory:
            row["peak_rss_mib"] = {side: peak_rss(side, name, args.threads)
                                   for side in ("minit5", "torch")}
        results[name] = row
        print(f"{name:<10} {f'{batch}x{inputs}->{targets}':>14} {repeats:>5} {step[0]:>9.4f} "
              f"{step[1]:>9.4f} {step[2]:>6.2f} {forward[2]:>9.2f} {bound:>9.4f} "
              f"{bound / step[0]:>8.0%} {row['flops'] / step[0] / 1e9:>8.1f}", flush=True)
    if args.memory:
        print("peak RSS (MiB, a fresh process: imports + model + 3 steps; in brackets the "
              "growth over the RSS after the imports)")
        for name, row in results.items():
            mem = row["peak_rss_mib"]
            print(f"{name:<10} minit5 {mem['minit5']['peak']:>7.0f} ({mem['minit5']['growth']:.0f})"
                  f"   torch {mem['torch']['peak']:>7.0f} ({mem['torch']['growth']:.0f})")
    return results


def build_pair(config, device, torch):
    """transformers' model with seed-0 weights, and minit5's model loaded from its checkpoint."""
    from transformers import T5Config as HFConfig
    from transformers import T5ForConditionalGeneration as HFModel
    from transformers.utils import logging

    from minit5 import T5ForConditionalGeneration
    logging.disable_progress_bar()
    torch.manual_seed(0)
    hf = HFModel(HFConfig(**config))
    with tempfile.TemporaryDirectory() as directory:
        hf.save_pretrained(directory)
        ours = T5ForConditionalGeneration.from_pretrained(directory, device=device)
    ours.train()   # dropout_rate is 0: train mode changes nothing but is what training runs
    hf.train()
    return ours, hf


def compare(config, batch, inputs, targets, repeats, device, torch):
    """(minit5 s, torch s, median pairwise ratio) for a train step and for a forward pass."""
    from minit5 import no_grad
    gpu = device == "gpu"
    ours, hf = build_pair(config, device, torch)
    rng = np.random.default_rng(0)
    ids = rng.integers(2, config["vocab_size"], size=(batch, inputs))
    labels = rng.integers(2, config["vocab_size"], size=(batch, targets))
    t_ids, t_labels = torch.tensor(ids), torch.tensor(labels)
    if gpu:
        import cupy
        hf = hf.cuda()
        ids, labels = cupy.asarray(ids), cupy.asarray(labels)
        t_ids, t_labels = t_ids.cuda(), t_labels.cuda()

    def sync():
        if gpu:
            cupy.cuda.Device().synchronize()
            torch.cuda.synchronize()

    def ours_step():
        ours.zero_grad()
        ours(input_ids=ids, labels=labels).loss.backward()
        sync()

    def hf_step():
        hf.zero_grad()
        hf(input_ids=t_ids, labels=t_labels).loss.backward()
        sync()

    def ours_forward():
        with no_grad():
            ours(input_ids=ids, labels=labels)
        sync()

    def hf_forward():
        with torch.no_grad():
            hf(input_ids=t_ids, labels=t_labels)
        sync()

    out = []
    for a, b in ((ours_step, hf_step), (ours_forward, hf_forward)):
        a(), b()                                       # warm-up
        pairs = [(timed(a), timed(b)) for _ in range(repeats)]
        out.append((statistics.median(x for x, _ in pairs),
                    statistics.median(y for _, y in pairs),
                    statistics.median(x / y for x, y in pairs)))
    return out


def peak_rss(side, shape, threads):
    """Peak RSS of a fresh process running three train steps of `side` at `shape`."""
    command = [sys.executable, __file__, "--peak-rss-of", side, "--shape", shape,
               "--threads", str(threads)]
    done = subprocess.run(command, capture_output=True, text=True, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def peak_rss_child(side, shape, threads):
    config, batch, inputs, targets, _ = CPU_SHAPES[shape]
    rng = np.random.default_rng(0)
    ids = rng.integers(2, config["vocab_size"], size=(batch, inputs))
    labels = rng.integers(2, config["vocab_size"], size=(batch, targets))
    if side == "torch":
        import torch
        from transformers import T5Config as HFConfig
        from transformers import T5ForConditionalGeneration as HFModel
        torch.set_num_threads(threads)
        base = _proc_status_mib("VmRSS")
        model = HFModel(HFConfig(**config)).train()
        ids, labels = torch.tensor(ids), torch.tensor(labels)
    else:
        from minit5 import T5Config, T5ForConditionalGeneration
        base = _proc_status_mib("VmRSS")
        model = T5ForConditionalGeneration(T5Config(**config), seed=0)
        model.train()
    for _ in range(3):
        model.zero_grad()
        model(input_ids=ids, labels=labels).loss.backward()
    peak = _proc_status_mib("VmHWM")
    print(json.dumps({"peak": peak, "growth": peak - base}))
    return 0


def _proc_status_mib(field):
    """VmRSS (now) or VmHWM (peak since exec) of this process, in MiB (Linux /proc).

    Not getrusage's ru_maxrss: after fork + exec it can still hold the parent's peak."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024           # the kernel reports kB
    raise RuntimeError(f"/proc/self/status has no {field}")


def main_gpu(args):
    import torch

    from minit5 import backend
    if not (backend.gpu_available() and torch.cuda.is_available()):
        print("bench_train --device gpu: no GPU here (CuPy and torch must both see one); "
              "skipped")
        return None
    shape = (args.shape or ["t5-small"])[0]
    if shape not in GPU_SHAPES:
        raise SystemExit(f"unknown GPU shape {shape!r}; choose from {', '.join(GPU_SHAPES)}")
    config = {**CONFIG, **GPU_SHAPES[shape], "vocab_size": 32128}
    repeats = args.repeats or 15
    high_water = PoolHighWater()                     # from here on: every CuPy allocation
    torch.cuda.reset_peak_memory_stats()
    step, forward = compare(config, args.batch, GPU_INPUTS, GPU_TARGETS, repeats, "gpu", torch)
    print(f"minit5 vs transformers {__import__('transformers').__version__} "
          f"(torch {torch.__version__}), GPU {shape}, batch {args.batch}x{GPU_INPUTS} -> "
          f"{GPU_TARGETS}, median of {repeats} alternating runs")
    print(f"{'':<11} {'minit5 s':>9} {'torch s':>9} {'ratio':>7}")
    for name, (ours_s, hf_s, ratio) in (("train step", step), ("forward", forward)):
        print(f"{name:<11} {ours_s:>9.4f} {hf_s:>9.4f} {ratio:>7.2f}")
    flops = step_flops(step_matmuls(config, args.batch, GPU_INPUTS, GPU_TARGETS))
    result = dict(shape=shape, batch=args.batch, inputs=GPU_INPUTS, targets=GPU_TARGETS,
                  repeats=repeats, step=step, forward=forward,
                  **report_gpu(step, flops, args.batch * (GPU_INPUTS + GPU_TARGETS),
                               args.peak_tflops, torch, high_water))
    if args.json:
        from minit5.io import write_json
        write_json(args.json, result)
    return result


class PoolHighWater:
    """The most bytes CuPy's default memory pool has had in use at once: every allocation
    goes through `malloc` (cupy.cuda.set_allocator), which records the pool's used bytes after
    it. (The pool's total_bytes() is what it holds now, cached free blocks included, not a
    peak of use.)"""

    def __init__(self):
        import cupy
        self.pool = cupy.get_default_memory_pool()
        self.peak = self.pool.used_bytes()
        cupy.cuda.set_allocator(self.malloc)

    def malloc(self, size):
        memory = self.pool.malloc(size)
        self.peak = max(self.peak, self.pool.used_bytes())
        return memory


def report_gpu(train_step, flops, tokens, peak_tflops, torch, high_water):
    """tokens/s, MFU and peak memory of each side; MFU counts the step's matmul FLOPs
    (matmul_limit.step_flops: forward + backward, 2mkn per product), not 6 N per token, which
    at t5-small's shape is about twice the products the step really makes."""
    ours_s, hf_s, _ = train_step
    out = {"step_flops": flops, "peak_tflops": peak_tflops}
    for name, seconds in (("minit5", ours_s), ("torch", hf_s)):
        mfu = flops / seconds / (peak_tflops * 1e12)
        out[name] = {"tokens_per_s": tokens / seconds, "mfu": mfu}
        print(f"{name:<7} {tokens / seconds:>12,.0f} tokens/s   MFU {mfu:.1%} "
              f"({flops / seconds / 1e12:.1f} TFLOP/s of matmuls)")
    out["minit5"]["peak_memory_gib"] = high_water.peak / 2**30
    out["torch"]["peak_memory_gib"] = torch.cuda.max_memory_allocated() / 2**30
    print(f"peak memory in use: minit5 {out['minit5']['peak_memory_gib']:.2f} GiB (CuPy pool's "
          f"high-water mark), torch {out['torch']['peak_memory_gib']:.2f} GiB "
          "(max_memory_allocated)")
    return out


if __name__ == "__main__":
    main()
