"""A train step (forward + backward) and a forward pass, minit5 vs transformers' T5.

CPU (default): config d_model 256, d_ff 1024, 4 heads x d_kv 64, 4+4 layers, vocab 8192, batch
8 x 128 input and 32 target tokens. GPU (`--device gpu`): t5-small or t5-base shapes
(`--shape`) with a batch sized for the card (`--batch`), CuPy vs PyTorch eager on CUDA, plus
tokens/s, model FLOP utilisation and peak memory.

Same weights (minit5 loads the checkpoint transformers wrote), same batch, same process, runs
alternating between the two; the reported figure is the median of the pairwise time ratios
minit5 / PyTorch. Both use float32 and, on a CPU, the same number of threads.

    python benchmarks/bench_train.py [--repeats 15] [--threads N]
    python benchmarks/bench_train.py --device gpu --shape t5-small --batch 64 [--peak-tflops 67]
"""
from __future__ import annotations

import argparse
import os
import statistics
import tempfile

import numpy as np

from timing import timed

CONFIG = dict(vocab_size=8192, d_model=256, d_ff=1024, num_heads=4, d_kv=64, num_layers=4,
              feed_forward_proj="relu", dropout_rate=0.0, decoder_start_token_id=0)
BATCH, INPUTS, TARGETS = 8, 128, 32
GPU_SHAPES = {"t5-small": dict(d_model=512, d_ff=2048, num_heads=8, d_kv=64, num_layers=6),
              "t5-base": dict(d_model=768, d_ff=3072, num_heads=12, d_kv=64, num_layers=12)}
GPU_INPUTS, GPU_TARGETS = 512, 114      # T5's pre-training lengths (512 -> 114 targets)


def main(argv=None):
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeats", type=int, default=15)
    parser.add_argument("--threads", type=int, default=os.cpu_count())
    parser.add_argument("--device", choices=["cpu", "gpu"], default="cpu")
    parser.add_argument("--shape", choices=sorted(GPU_SHAPES), default="t5-small")
    parser.add_argument("--batch", type=int, default=32, help="GPU batch size")
    parser.add_argument("--peak-tflops", type=float, default=67.0,
                        help="the card's float32 peak, for MFU (H100 SXM: 67)")
    args = parser.parse_args(argv)

    import torch
    from transformers import T5Config as HFConfig, T5ForConditionalGeneration as HFModel

    from minit5 import T5ForConditionalGeneration, backend

    gpu = args.device == "gpu"
    if gpu and not (backend.gpu_available() and torch.cuda.is_available()):
        print("bench_train --device gpu: no GPU here (CuPy and torch must both see one); "
              "skipped")
        return None
    config = {**CONFIG, **GPU_SHAPES[args.shape], "vocab_size": 32128} if gpu else CONFIG
    batch, inputs, targets = (args.batch, GPU_INPUTS, GPU_TARGETS) if gpu else \
        (BATCH, INPUTS, TARGETS)
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    hf = HFModel(HFConfig(**config))
    with tempfile.TemporaryDirectory() as directory:
        hf.save_pretrained(directory)
        ours = T5ForConditionalGeneration.from_pretrained(directory, device=args.device)
    ours.train()   # dropout_rate is 0: train mode changes nothing but is what training runs
    hf.train()
    if gpu:
        hf = hf.cuda()

    rng = np.random.default_rng(0)
    ids = rng.integers(2, config["vocab_size"], size=(batch, inputs))
    labels = rng.integers(2, config["vocab_size"], size=(batch, targets))
    t_ids, t_labels = torch.tensor(ids), torch.tensor(labels)
    if gpu:
        import cupy
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
        from minit5 import no_grad
        with no_grad():
            ours(input_ids=ids, labels=labels)
        sync()

    def hf_forward():
        with torch.no_grad():
            hf(input_ids=t_ids, labels=t_labels)
        sync()

    results = {}
    for name, a, b in (("train step", ours_step, hf_step), ("forward", ours_forward, hf_forward)):
        a(), b()                                       # warm-up
        pairs = [(timed(a), timed(b)) for _ in range(args.repeats)]
        ratios = [x / y for x, y in pairs]
        results[name] = (statistics.median(x for x, _ in pairs),
                         statistics.median(y for _, y in pairs), statistics.median(ratios))

    where = f"GPU {args.shape}" if gpu else f"CPU, {args.threads} threads"
    print(f"minit5 vs transformers {__import__('transformers').__version__} "
          f"(torch {torch.__version__}), {where}, batch {batch}x{inputs} -> {targets}, "
          f"median of {args.repeats} alternating runs")
    print(f"{'':<11} {'minit5 s':>9} {'torch s':>9} {'ratio':>7}")
    for name, (ours_s, hf_s, ratio) in results.items():
        print(f"{name:<11} {ours_s:>9.4f} {hf_s:>9.4f} {ratio:>7.2f}")
    if gpu:
        report_gpu(results["train step"], ours.config.num_parameters(), batch * (inputs + targets),
                   args.peak_tflops, torch)
    return results


def report_gpu(train_step, n_params, tokens, peak_tflops, torch):
    """tokens/s, MFU (6 N FLOPs per token for forward + backward) and peak memory."""
    import cupy
    ours_s, hf_s, _ = train_step
    for name, seconds in (("minit5", ours_s), ("torch", hf_s)):
        flops = 6 * n_params * tokens / seconds
        print(f"{name:<7} {tokens / seconds:>12,.0f} tokens/s   MFU {flops / (peak_tflops * 1e12):.1%}")
    print(f"peak memory: minit5 {cupy.get_default_memory_pool().total_bytes() / 2**30:.2f} GiB "
          f"(CuPy pool), torch {torch.cuda.max_memory_allocated() / 2**30:.2f} GiB")


if __name__ == "__main__":
    main()
