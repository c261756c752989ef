"""minit5 eval --model DIR [--tokenizer spiece.model] [--task-file FILE --metric NAME]: task
metrics on the synthetic tasks, or on every example of a .tsv / .jsonl task file."""
from __future__ import annotations

import pathlib

from minit5.commands.option_defaults import resolve
from minit5.data.task_files import MAX_TASK_TOKENS


def add_parser(subparsers):
    p = subparsers.add_parser("eval", help="evaluate a checkpoint on the synthetic tasks")
    p.add_argument("--model", required=True, help="model directory (config.json + safetensors)")
    p.add_argument("--tokenizer", help="spiece.model (default: MODEL/spiece.model)")
    p.add_argument("--examples", type=int, help="examples per synthetic task (default 64)")
    p.add_argument("--seed", type=int, help="seed of the synthetic evaluation sets (default 0)")
    p.add_argument("--device", default="cpu", choices=("cpu", "gpu", "auto"))
    p.add_argument("--task-file", help="score every example of this .tsv / .jsonl task file")
    p.add_argument("--metric",
                   help="with --task-file: a metric of minit5.data.metrics.METRICS "
                        "(default exact_match)")
    p.add_argument("--max-tokens", type=int, metavar="N",
                   help="with --task-file: refuse an example whose input or target is longer "
                        f"than N tokens (default {MAX_TASK_TOKENS})")
    p.set_defaults(func=run)
    return p


# Options that only one of the two evaluations reads: (attribute, option, default).
TASK_FILE_ONLY = (("metric", "--metric", "exact_match"),
                  ("max_tokens", "--max-tokens", MAX_TASK_TOKENS))
SYNTHETIC_ONLY = (("examples", "--examples", 64), ("seed", "--seed", 0))


def check_options(args):
    """Refuse an option the chosen evaluation would ignore, then give the others their
    defaults."""
    resolve(args, TASK_FILE_ONLY, args.task_file is not None,
            "{option} needs --task-file (the examples to score); without it the synthetic "
            "tasks are scored and the option would be ignored")
    resolve(args, SYNTHETIC_ONLY, args.task_file is None,
            "{option} sets the synthetic tasks' evaluation sets; with --task-file every example "
            "of the file is scored and the option would be ignored. Drop it")


def run(args):
    from minit5.data.tokenizer import Tokenizer
    from minit5.t5 import T5ForConditionalGeneration
    from minit5.t5.checkpoint import check_checkpoint_path
    from minit5.train.evaluate import evaluate
    from minit5.train.pipeline import default_tasks, file_evaluation
    from minit5.train.streams import eval_sets

    check_options(args)
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
