"""minit5 eval --model DIR [--tokenizer spiece.model] [--task-file FILE --metric NAME]: task
metrics on the synthetic tasks, or on every example of a .tsv / .jsonl task file."""
from __future__ import annotations

import pathlib

from minit5.data.task_files import MAX_TASK_TOKENS


def add_parser(subparsers):
    p = subparsers.add_parser("eval", help="evaluate a checkpoint on the synthetic tasks")
    p.add_argument("--model", required=True, help="model directory (config.json + safetensors)")
    p.add_argument("--tokenizer", help="spiece.model (default: MODEL/spiece.model)")
    p.add_argument("--examples", type=int, default=64, help="examples per task")
    p.add_argument("--seed", type=int, default=0, help="seed of the evaluation sets")
    p.add_argument("--device", default="cpu", choices=("cpu", "gpu", "auto"))
    p.add_argument("--task-file", help="score every example of this .tsv / .jsonl task file")
    p.add_argument("--metric", default="exact_match",
                   help="with --task-file: a metric of minit5.data.metrics.METRICS")
    p.add_argument("--max-tokens", type=int, default=MAX_TASK_TOKENS, metavar="N",
                   help="with --task-file: refuse an example whose input or target is longer "
                        f"than N tokens (default {MAX_TASK_TOKENS})")
    p.set_defaults(func=run)
    return p


def run(args):
    from minit5.data.tokenizer import Tokenizer
    from minit5.t5 import T5ForConditionalGeneration
    from minit5.t5.checkpoint import check_checkpoint_path
    from minit5.train.evaluate import evaluate
    from minit5.train.pipeline import default_tasks, file_evaluation
    from minit5.train.streams import eval_sets

    if args.examples < 1:
        raise ValueError(f"--examples must be at least 1, got {args.examples}")
    if args.seed < 0:
        raise ValueError(f"--seed must be >= 0, got {args.seed}")
    if args.max_tokens < 1:
        raise ValueError(f"--max-tokens must be at least 1, got {args.max_tokens}")
    model_dir = pathlib.Path(args.model)
    check_checkpoint_path(model_dir)          # a wrong --model is named before the tokenizer
    tokenizer = Tokenizer(args.tokenizer or model_dir / "spiece.model")
    model = T5ForConditionalGeneration.from_pretrained(model_dir, device=args.device)
    if args.task_file:
        tasks, examples = file_evaluation(args.task_file, args.metric, tokenizer,
                                          args.max_tokens)
    else:
        tasks, _ = default_tasks()
        examples = eval_sets(tasks, args.examples, args.seed)
    results = evaluate(model, tokenizer, tasks, examples)
    print(f"{'task':<12} metric")
    for task, metrics in results.items():
        print(f"{task:<12} " + ", ".join(f"{k} {v:.3f}" for k, v in metrics.items()))
    return 0
