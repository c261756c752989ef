"""About two minutes of T5 pre-training on the GPU through minit5's own Trainer; the loss must
fall. Part of `make gpu-check` (benchmarks/gpu_check.sh).

    python benchmarks/gpu_train.py --seconds 120 --out DIR [--cpu-dry-run]

t5-small's shape (d_model 512, 6+6 layers, 8 heads, d_ff 2048, relu, tied embeddings) with
T5's vocabulary size (32128); span corruption over the built-in corpus (the standard library's
docstrings) read as UTF-8 bytes (ids 3..258), so no tokenizer is needed; 512 input tokens;
Adafactor with the inverse square root schedule; dropout 0.1, so the masks are drawn on the
device (functional.DropoutMasks). A timer asks the Trainer to stop after --seconds; it finishes
the step, checkpoints to a temporary folder and returns. Then one probe: the time of a train
step (forward + backward) with dropout at p = 0 and at p = 0.1.

Prints `LOSS first3=... last3=...` and `RESULT loss went down: yes|NO`; writes
DIR/train_log.jsonl (the Trainer's log) and DIR/train_summary.json. Exit status 1 if the loss
did not fall by at least 1 nat.
"""
from __future__ import annotations

import argparse
import pathlib
import shutil
import statistics
import sys
import tempfile
import threading
import time

import numpy as np


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=120.0)
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--inputs", type=int, default=512)
    parser.add_argument("--log-every", type=int, default=10)
    parser.add_argument("--out", default=".")
    parser.add_argument("--cpu-dry-run", action="store_true", help="a tiny model on NumPy")
    args = parser.parse_args(argv)
    out = pathlib.Path(args.out)
    out.mkdir(parents=True, exist_ok=True)

    from minit5 import backend
    from minit5.data.corpus import builtin_corpus
    from minit5.functional import DropoutMasks
    from minit5.io import write_bytes, write_json
    from minit5.nn import Dropout
    from minit5.optim import Adafactor
    from minit5.t5 import T5Config, T5ForConditionalGeneration
    from minit5.train.config import TrainConfig
    from minit5.train.streams import PretrainStream
    from minit5.train.trainer import Trainer

    device = "cpu" if args.cpu_dry_run else "gpu"
    if device == "gpu" and not backend.gpu_available():
        raise SystemExit(f"gpu_train: no usable GPU: {backend._why_no_gpu()}")
    xp = backend.xp_for(device)

    def sync():
        if xp is not np:
            xp.cuda.Device().synchronize()

    shape = (dict(d_model=64, d_kv=16, d_ff=128, num_heads=4, num_layers=2)
             if args.cpu_dry_run else
             dict(d_model=512, d_kv=64, d_ff=2048, num_heads=8, num_layers=6))
    inputs = 64 if args.cpu_dry_run else args.inputs
    vocab = 32128
    cfg = TrainConfig(**shape, feed_forward_proj="relu", dropout_rate=0.1, inputs_length=inputs,
                      batch_size=args.batch, steps=10**6, schedule="inverse_sqrt", lr=0.01,
                      warmup_steps=100, eval_every=10**9, checkpoint_every=10**9, keep_last=1,
                      log_every=args.log_every, seed=0, device=device)
    pages = builtin_corpus()
    docs = [np.frombuffer(p.encode("utf-8"), dtype=np.uint8).astype(np.int64) + 3 for p in pages]
    stream = PretrainStream(docs, vocab, cfg.inputs_length, cfg.batch_size, cfg.seed)
    config = T5Config(vocab_size=vocab, d_model=cfg.d_model, d_kv=cfg.d_kv, d_ff=cfg.d_ff,
                      num_heads=cfg.num_heads, num_layers=cfg.num_layers,
                      feed_forward_proj=cfg.feed_forward_proj, dropout_rate=cfg.dropout_rate,
                      tie_word_embeddings=True)
    model = T5ForConditionalGeneration(config, seed=0).to(device)
    optimizer = Adafactor(model.parameters(), lr=cfg.lr, relative_step=False,
                          scale_parameter=True, warmup_init=False)
    run_dir = pathlib.Path(tempfile.mkdtemp(prefix="minit5_gpu_train_"))
    stop = threading.Event()
    trainer = Trainer(model, optimizer, stream, cfg, run_dir, progress=False, name="gpu-check",
                      stop=stop)
    timer = threading.Timer(args.seconds, stop.set)
    started = time.perf_counter()
    timer.start()
    try:
        status = trainer.train()
    finally:
        timer.cancel()
    sync()
    wall = time.perf_counter() - started
    losses = [h["loss"] for h in trainer.history]
    for h in trainer.history[:3] + trainer.history[-3:]:
        print(f"  step {h['step']:5d} loss {h['loss']:.4f} lr {h['lr']:.2e} "
              f"tok/s {h['tokens_per_s']:,.0f}")
    first = statistics.mean(losses[:3]) if losses else float("nan")
    last = statistics.mean(losses[-3:]) if losses else float("nan")
    went_down = len(losses) >= 4 and last < first - 1.0
    steps = trainer.step
    print(f"trainer status {status}: {steps} steps in {wall:.1f} s ({steps / wall:.2f} steps/s, "
          f"{steps * cfg.batch_size * cfg.inputs_length / wall:,.0f} input tokens/s; the first "
          "step includes the kernel compiles)")
    print(f"LOSS first3={first:.4f} last3={last:.4f} drop={first - last:.4f} "
          f"(ln V = {np.log(vocab):.3f})")
    print(f"RESULT loss went down: {'yes' if went_down else 'NO'}", flush=True)
    if (run_dir / "log.jsonl").exists():
        write_bytes(out / "train_log.jsonl", (run_dir / "log.jsonl").read_bytes())
    shutil.rmtree(run_dir, ignore_errors=True)

    # ---- probe: what dropout costs a step, its masks drawn on the device ---------------------
    kwargs = stream.batch(10**6).model_kwargs()
    dropouts = [m for m in model.modules() if isinstance(m, Dropout)]
    model.train()

    def step():
        model.set_dropout_rng(DropoutMasks(np.random.default_rng(0)))
        model.zero_grad()
        model(**kwargs).loss.backward()
        sync()

    timings = {}
    for p in (0.0, 0.1):
        for m in dropouts:
            m.p = p
        step()                                                   # warm-up
        times = []
        for _ in range(3):
            s = time.perf_counter()
            step()
            times.append(time.perf_counter() - s)
        timings[str(p)] = statistics.median(times)
    print(f"PROBE dropout: train step (fwd+bwd) {timings['0.0']:.3f} s at p=0, "
          f"{timings['0.1']:.3f} s at p=0.1 ({len(dropouts)} dropout layers)", flush=True)
    write_json(out / "train_summary.json",
               dict(device=device, status=status, steps=steps, seconds=wall,
                    batch=cfg.batch_size, inputs=cfg.inputs_length, first3=first, last3=last,
                    went_down=went_down, losses=losses, step_seconds_by_dropout=timings))
    return 0 if went_down else 1


if __name__ == "__main__":
    sys.exit(main())
