"""`minit5 generate`: text in, text out, with a T5 checkpoint and its tokenizer.

    minit5 generate --model t5-small/ "translate English to German: The house is wonderful."
    minit5 generate --model ckpt/ --tokenizer tok/spiece.model --num-beams 4 "summarize: ..."
    cat prompts.txt | minit5 generate --model ckpt/ > outputs.txt

With no prompt arguments the prompts are read from standard input, one a line (blank lines are
skipped), and the outputs are printed in the same order, one a line. --tokenizer defaults to
the model folder's spiece.model, where transformers keeps it.
"""
import math
import pathlib
import sys

import numpy as np

from minit5.commands.text_input import argument_texts, stdin_lines

# Prompts longer than this many tokens are cut (T5's sequence length, §3.1.2), with a warning,
# as transformers' pipelines cut them. T5 has no position table, so the model would take a
# longer one, but attention holds a (length x length) array per head: a 200,000-word prompt
# would need terabytes. Cutting, not refusing, because a prompt's start usually carries the
# task ("summarize: ...") and one long line among many should not stop the others.
MAX_INPUT_TOKENS = 512


def add_parser(subparsers):
    """Add `generate` to an argparse `subparsers`."""
    parser = subparsers.add_parser(
        "generate", help="generate text from prompts with a T5 checkpoint",
        description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", required=True, metavar="DIR",
                        help="checkpoint folder: config.json + model.safetensors")
    parser.add_argument("--tokenizer", metavar="PATH",
                        help="SentencePiece spiece.model, or a folder holding one "
                             "(default: DIR/spiece.model)")
    parser.add_argument("--max-new-tokens", type=int, default=20, metavar="N",
                        help="most tokens to generate per prompt (default 20)")
    parser.add_argument("--num-beams", type=int, default=1, metavar="K",
                        help="1: greedy search (default); more: beam search")
    parser.add_argument("--length-penalty", type=float, default=1.0, metavar="ALPHA",
                        help="beam search: score / length ** ALPHA (default 1.0; the paper "
                             "used 0.6 with 4 beams)")
    parser.add_argument("--max-input-tokens", type=int, default=MAX_INPUT_TOKENS, metavar="N",
                        help="a longer prompt is cut to its first N tokens, with a warning "
                             f"(default {MAX_INPUT_TOKENS}, T5's sequence length)")
    parser.add_argument("--batch-size", type=int, default=8, metavar="B",
                        help="prompts decoded together (default 8)")
    parser.add_argument("--device", default="cpu", choices=("cpu", "gpu", "auto"),
                        help="cpu (NumPy), gpu (CuPy) or auto (default cpu)")
    parser.add_argument("prompts", nargs="*", metavar="PROMPT",
                        help="input texts (default: standard input, one a line)")
    parser.set_defaults(func=run)
    return parser


def check_paths(model_dir, tokenizer_path):
    """The checkpoint folder and the tokenizer file, or an error naming the path and the fix."""
    model_dir = pathlib.Path(model_dir)
    if not model_dir.is_dir():
        raise FileNotFoundError(
            f"--model {model_dir}: no such directory. Pass a checkpoint folder holding "
            "config.json and model.safetensors (written by model.save_pretrained(DIR) or by "
            "transformers' save_pretrained).")
    if not (model_dir / "config.json").is_file():
        raise FileNotFoundError(
            f"--model {model_dir}: no config.json there. A checkpoint folder holds config.json "
            "and model.safetensors; point --model at that folder.")
    tokenizer = pathlib.Path(tokenizer_path) if tokenizer_path else model_dir / "spiece.model"
    if tokenizer.is_dir():
        tokenizer = tokenizer / "spiece.model"
    if not tokenizer.is_file():
        where = "--tokenizer" if tokenizer_path else "the default tokenizer"
        raise FileNotFoundError(
            f"{where} {tokenizer}: no such file. Pass --tokenizer PATH/spiece.model, the "
            "SentencePiece model the checkpoint was trained with (or copy it into the model "
            "folder).")
    return model_dir, tokenizer


def read_prompts(args, stdin=None):
    """The prompt arguments, or the non-blank lines of standard input, checked to be UTF-8."""
    if args.prompts:
        return argument_texts(args.prompts, "prompt")
    return [line for line in stdin_lines(stdin) if line.strip()]


def pad_batch(rows, pad_id=0):
    """Lists of ids -> input_ids (B, L) padded with pad_id, attention_mask (B, L)."""
    length = max(len(row) for row in rows)
    input_ids = np.full((len(rows), length), pad_id, dtype=np.int64)
    attention_mask = np.zeros((len(rows), length), dtype=np.int64)
    for i, row in enumerate(rows):
        input_ids[i, :len(row)] = row
        attention_mask[i, :len(row)] = 1
    return input_ids, attention_mask


def cut(ids: list, limit: int, number: int) -> list:
    """A prompt's ids cut to `limit` (its EOS kept last), with a warning naming prompt
    `number`; unchanged when it fits."""
    if len(ids) <= limit:
        return ids
    print(f"minit5 generate: warning: prompt {number} is {len(ids):,} tokens long; it was cut "
          f"to its first {limit} (--max-input-tokens {limit})", file=sys.stderr)
    return ids[:limit - 1] + ids[-1:]


def generate(args, out):
    from minit5 import T5ForConditionalGeneration
    from minit5.data.tokenizer import Tokenizer

    for name in ("max_new_tokens", "num_beams", "batch_size", "max_input_tokens"):
        if getattr(args, name) < 1:
            raise ValueError(f"--{name.replace('_', '-')} must be at least 1, "
                             f"got {getattr(args, name)}")
    if not math.isfinite(args.length_penalty):
        raise ValueError(f"--length-penalty must be a finite number, got {args.length_penalty}")
    model_dir, tokenizer_path = check_paths(args.model, args.tokenizer)
    tokenizer = Tokenizer(tokenizer_path)
    prompts = read_prompts(args)
    if not prompts:
        raise ValueError("no prompts: pass them as arguments or on standard input, one a line")
    model = T5ForConditionalGeneration.from_pretrained(model_dir, device=args.device)
    for start in range(0, len(prompts), args.batch_size):
        chunk = prompts[start:start + args.batch_size]
        rows = [cut(tokenizer.encode(text), args.max_input_tokens, start + i + 1)
                for i, text in enumerate(chunk)]
        input_ids, attention_mask = pad_batch(rows)
        outputs = model.generate(input_ids, attention_mask=attention_mask,
                                 max_new_tokens=args.max_new_tokens, num_beams=args.num_beams,
                                 length_penalty=args.length_penalty)
        for row in outputs:
            print(tokenizer.decode(row[1:]), file=out, flush=True)   # drop the start token


def run(args, out=None):
    """Run the parsed `minit5 generate ...` command (errors go to minit5.cli.main)."""
    generate(args, sys.stdout if out is None else out)
    return 0
