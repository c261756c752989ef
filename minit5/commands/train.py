"""minit5 train pretrain|finetune --run DIR [--preset tiny] [--resume] [--key=value ...]

Settings are the fields of minit5.train.config.TrainConfig, e.g. --steps=500 --lr=0.001.
The final model is written to DIR/model (HF format, with the tokenizer beside it).
Your own data: `--corpus` takes a .txt / .jsonl / .json.gz file or a folder of them (C4's
shards too); `finetune --task-file FILE` takes a TSV (input<TAB>target) or JSONL
({"input", "target"}) task, with `--eval-file` or a held-out `--valid-fraction`, scored by
`--metric` (see minit5.data.task_files). A task example whose input or target is longer
than `--max-tokens` (512) is refused with its file and number, not cut: a cut target would
teach a wrong answer.
Under `mpiexec -n N` the N processes share each batch (minit5.train.distributed); rank 0
alone writes the tokenizer, checkpoints, log, plot and model and prints.
A run holds its --run folder: a second run started into it is refused, naming the first's
pid. An option the phase would ignore (pretrain --task-file, finetune --corpus) is refused.
Ctrl-C finishes the step, saves a checkpoint and exits with status 130, naming the checkpoint
(DIR/model is written only by a run that ends); the same command with --resume continues.
"""
from __future__ import annotations

import contextlib
import pathlib
import sys

from minit5.commands.option_defaults import resolve
from minit5.data.objectives import OBJECTIVES
from minit5.data.task_files import MAX_TASK_TOKENS


def add_parser(subparsers):
    p = subparsers.add_parser("train", help="pre-train or fine-tune a T5",
                              description=__doc__.split("\n\n")[0])
    p.add_argument("phase", choices=["pretrain", "finetune"])
    p.add_argument("--run", required=True, help="run directory (checkpoints, log, plot)")
    p.add_argument("--preset", default="tiny", help="tiny (CPU) | small | base (GPU)")
    p.add_argument("--tokenizer", help="spiece.model to use (pretrain trains one if absent)")
    p.add_argument("--vocab-size", type=int, default=2000,
                   help="pieces for a new tokenizer (100 sentinels are added)")
    p.add_argument("--corpus", help=".txt / .jsonl / .json.gz corpus file or folder "
                                    "(default: the built-in one)")
    p.add_argument("--task-file", help="finetune on this .tsv / .jsonl task instead of the "
                                       "synthetic tasks")
    p.add_argument("--eval-file", help="with --task-file: the validation set (default: hold "
                                       "out --valid-fraction of the task file)")
    p.add_argument("--valid-fraction", type=float, default=None,
                   help="with --task-file: the share held out for validation (default 0.1)")
    p.add_argument("--metric", default=None,
                   help="with --task-file: a metric of minit5.data.metrics.METRICS "
                        "(default exact_match)")
    p.add_argument("--max-tokens", type=int, default=None, metavar="N",
                   help="with --task-file: refuse an example whose input or target is longer "
                        f"than N tokens (default {MAX_TASK_TOKENS})")
    p.add_argument("--objective", choices=list(OBJECTIVES), metavar="NAME",
                   help="pretrain: the objective (default: the preset's, span_corruption for "
                        "tiny); one of " + "; ".join(
                            f"{name} ({o.description})".replace("%", "%%")   # argparse's %
                            for name, o in OBJECTIVES.items()))
    p.add_argument("--init", help="finetune: start from this model directory "
                                  "(default: random weights)")
    p.add_argument("--resume", action="store_true", help="continue from the newest checkpoint")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.set_defaults(func=run, accepts_overrides=True)
    return p


def run(args):
    from minit5.backend import resolve_device
    from minit5.io.folder_lock import hold_folder
    from minit5.train import distributed
    from minit5.train.config import TrainConfig, apply_overrides

    objective = [f"--objective={args.objective}"] if args.objective else []
    cfg = apply_overrides(TrainConfig.preset(args.preset), [*args.overrides, *objective])
    comm = distributed.world(resolve_device(cfg.device))   # picks this rank's GPU, if any
    run_dir = pathlib.Path(args.run)
    if run_dir.exists() and not run_dir.is_dir():
        raise NotADirectoryError(f"--run {run_dir} is a file; pass a folder for the run's "
                                 "checkpoints, log and model (it is created if missing)")
    if args.vocab_size < 4:
        raise ValueError(f"--vocab-size must be >= 4 (3 special pieces and some text), got "
                         f"{args.vocab_size}")
    check_phase_options(args)
    run_dir.mkdir(parents=True, exist_ok=True)
    # Rank 0 alone writes, so it alone holds the folder: a second run into it is refused.
    holding = hold_folder(run_dir, "--run folder") if comm.is_root else contextlib.nullcontext()
    with holding:
        try:
            return _run(args, cfg, comm, run_dir)
        except KeyboardInterrupt:           # a second Ctrl-C, or one before training began
            if comm.is_root:
                print(f"minit5 train: interrupted. {_saved(run_dir)}", file=sys.stderr)
            return 130


# Options that only a --task-file run reads: (argument, option, default).
TASK_FILE_OPTIONS = (("eval_file", "--eval-file", None),
                     ("valid_fraction", "--valid-fraction", 0.1),
                     ("metric", "--metric", "exact_match"),
                     ("max_tokens", "--max-tokens", MAX_TASK_TOKENS))


def check_phase_options(args):
    """Refuse an option that the phase would ignore (it would look as if it had been used),
    then give the task-file options their defaults."""
    ignored = {"pretrain": (("task_file", "--task-file"), ("eval_file", "--eval-file"),
                            ("init", "--init")),
               "finetune": (("corpus", "--corpus"),)}[args.phase]
    for name, option in ignored:
        if getattr(args, name) is not None:
            other = "finetune" if args.phase == "pretrain" else "pretrain"
            raise ValueError(f"{option} is an option of `minit5 train {other}`; `minit5 train "
                             f"{args.phase}` would ignore it. Drop it, or run {other}")
    resolve(args, TASK_FILE_OPTIONS, args.task_file is not None,
            "{option} needs --task-file (the training examples); without it the option would "
            "be ignored")
    if args.max_tokens < 1:
        raise ValueError(f"--max-tokens must be at least 1, got {args.max_tokens}")


def _saved(run_dir) -> str:
    """What an interrupted run leaves, and how to go on from it."""
    from minit5.train.checkpoint import latest_checkpoint
    newest = latest_checkpoint(run_dir)
    if newest is None:
        return "No checkpoint was saved yet: run the same command again to start over"
    return (f"The newest checkpoint, {newest}, is kept ({run_dir / 'model'} is written only "
            "when a run ends): add --resume to the same command to continue from it")


def _run(args, cfg, comm, run_dir):
    from minit5.commands.ctrl_c import stop_on_ctrl_c
    from minit5.data.tokenizer import Tokenizer
    from minit5.io.atomic_file import write_bytes
    from minit5.t5 import T5ForConditionalGeneration
    from minit5.train import pipeline

    progress = not args.no_progress
    if args.tokenizer:
        tokenizer = Tokenizer(args.tokenizer)
    elif args.phase == "pretrain":
        tokenizer = None
    else:
        raise ValueError("finetune needs --tokenizer (the spiece.model the model was trained "
                         "with, e.g. RUN/model/spiece.model)")
    if args.phase == "pretrain":
        pages = pipeline.load_corpus(args.corpus)
        if tokenizer is None:
            path = run_dir / "spiece.model"
            if comm.is_root:
                pipeline.make_tokenizer(pages, path, args.vocab_size, cfg.seed,
                                        pipeline.default_tasks()[0])
            comm.barrier()
            tokenizer = Tokenizer(path)
        with stop_on_ctrl_c() as stop:
            model, trainer = pipeline.pretrain(cfg, run_dir, tokenizer, pages, args.resume,
                                               progress, stop=stop)
    else:
        model = None
        if args.init:
            model = T5ForConditionalGeneration.from_pretrained(args.init, dtype=cfg.dtype,
                                                               device=cfg.device)
        tasks, evaluation = None, None
        if args.task_file:
            tasks, evaluation = pipeline.file_tasks(args.task_file, args.eval_file, args.metric,
                                                    args.valid_fraction, cfg.seed, tokenizer,
                                                    args.max_tokens)
        with stop_on_ctrl_c() as stop:
            model, trainer = pipeline.finetune(cfg, run_dir, tokenizer, model, args.resume,
                                               progress, tasks=tasks, evaluation=evaluation,
                                               stop=stop)
    if not comm.is_root:
        return 130 if stop.is_set() else 0
    if stop.is_set():
        print(f"minit5 train: interrupted at step {trainer.step} of {cfg.steps}. "
              f"{_saved(run_dir)}", file=sys.stderr)
        return 130
    if args.phase == "finetune":
        for row in trainer.evals[-1:]:
            print("evaluation:", row)
    model.save_pretrained(run_dir / "model")
    beside = run_dir / "model" / "spiece.model"
    if not (beside.exists() and beside.samefile(tokenizer.path)):
        write_bytes(beside, pathlib.Path(tokenizer.path).read_bytes())
    print(f"model written to {run_dir / 'model'}; log {trainer.log_path}; "
          f"plot {run_dir / 'loss.png'}")
    return 0
