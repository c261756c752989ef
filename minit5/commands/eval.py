"""minit5 eval --model DIR [--tokenizer spiece.model]: task metrics on the synthetic tasks."""
from __future__ import annotations

import pathlib


def add_parser(subparsers):
    p = subparsers.add_parser("eval", help="evaluate a checkpoint on the synthetic tasks")
    p.add_argument("--model", required=True, help="model directory (config.json + safetensors)")
    p.add_argument("--tokenizer", help="spiece.model (default: MODEL/spiece.model)")
    p.add_argument("--examples", type=int, default=64, help="examples per task")
    p.add_argument("--seed", type=int, default=0, help="seed of the evaluation sets")
    p.add_argument("--device", default="cpu", choices=("cpu", "gpu", "auto"))
    p.set_defaults(func=run)
    return p


def run(args):
    from minit5.data.tokenizer import Tokenizer
    from minit5.t5 import T5ForConditionalGeneration
    from minit5.train.evaluate import evaluate_tasks
    from minit5.train.pipeline import default_tasks
    from minit5.train.streams import eval_sets

    if args.examples < 1:
        raise ValueError(f"--examples must be at least 1, got {args.examples}")
    if args.seed < 0:
        raise ValueError(f"--seed must be >= 0, got {args.seed}")
    tokenizer = Tokenizer(args.tokenizer or pathlib.Path(args.model) / "spiece.model")
    model = T5ForConditionalGeneration.from_pretrained(args.model, device=args.device)
    tasks, _ = default_tasks()
    results = evaluate_tasks(model, tokenizer, tasks, eval_sets(tasks, args.examples, args.seed))
    print(f"{'task':<12} metric")
    for task, metrics in results.items():
        print(f"{task:<12} " + ", ".join(f"{k} {v:.3f}" for k, v in metrics.items()))
    return 0
