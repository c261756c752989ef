"""`minit5 tokenizer train | encode | decode`: the T5 tokenizer from the command line.

    minit5 tokenizer train --input corpus.txt --vocab-size 8000 --out tok/
    minit5 tokenizer encode --model tok/ "Thank you <extra_id_0> me"
    minit5 tokenizer decode --model tok/ 1849 32099 1

`train` reads plain text (one sentence or paragraph a line) or JSON lines (one object a line,
its text under --text-field, "text" by default; .jsonl, .json and C4's .json.gz shards), or a
folder of them, as `minit5 train --corpus` does, and writes `DIR/spiece.model`.
`encode` and `decode` read their arguments, or standard input one item a line when none given.
"""
import pathlib

from minit5.commands.text_input import argument_texts, stdin_lines
from minit5.data.corpus import (
    JSON_SUFFIXES,
    CorpusFormatError,
    corpus_files,
    read_jsonl,
    read_txt,
)
from minit5.data.tokenizer import Tokenizer, train_tokenizer


def add_parser(subparsers):
    """Add `tokenizer` and its three sub-commands to an argparse `subparsers`."""
    parser = subparsers.add_parser("tokenizer",
                                   help="train a SentencePiece tokenizer; encode; decode",
                                   description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="tokenizer_command", metavar="{train,encode,decode}")
    commands.required = True

    train = commands.add_parser("train", help="train a unigram SentencePiece model with T5's ids")
    train.add_argument("--input", required=True, nargs="+", metavar="PATH",
                       help="text files, .txt (a sentence a line) or .jsonl / .json.gz (an "
                            "object a line), optionally gzipped, or folders of them")
    train.add_argument("--vocab-size", required=True, type=int, metavar="N",
                       help="SentencePiece pieces (the tokenizer adds 100 sentinels on top)")
    train.add_argument("--out", required=True, metavar="DIR", help="folder for spiece.model")
    train.add_argument("--text-field", default="text", help="JSON field holding the text (.jsonl)")
    train.add_argument("--character-coverage", type=float, default=1.0,
                       help="share of characters to cover (default 1.0)")

    encode = commands.add_parser("encode", help="text -> ids (EOS appended), one line per text")
    encode.add_argument("--model", required=True, help="spiece.model or a folder holding it")
    encode.add_argument("text", nargs="*", help="texts to encode (default: stdin lines)")

    decode = commands.add_parser("decode", help="ids -> text")
    decode.add_argument("--model", required=True, help="spiece.model or a folder holding it")
    decode.add_argument("ids", nargs="*", help="ids to decode as one sequence "
                                               "(default: stdin, one sequence of ids a line)")
    parser.set_defaults(func=run)
    return parser


def read_texts(path, text_field="text"):
    """Yield the non-blank lines of a text file, or the lines of each JSON object's text; a
    folder is read file by file (`minit5.data.corpus.corpus_files`: .txt, .jsonl, .json and
    their .gz, as `minit5 train --corpus` reads it).

    A file whose name ends in .jsonl, .json (.gz) is JSON lines; any other file is plain text.
    SentencePiece skips over-long sentences, so a document is fed a line at a time. The files
    are read by minit5.data.corpus, whose errors name the file and the line."""
    path = str(path)
    files = corpus_files(path) if pathlib.Path(path).is_dir() else [path]
    for name in files:
        is_json = name.endswith(JSON_SUFFIXES)
        documents = read_jsonl(name, field=text_field) if is_json else read_txt(name)
        try:
            for document in documents:
                yield from (line for line in document.splitlines() if line.strip())
        except CorpusFormatError as e:
            hint = "; choose the field with --text-field" if is_json else ""
            raise ValueError(f"{e}{hint}") from None


def _train(args):
    texts = [t for path in args.input for t in read_texts(path, args.text_field)]
    out = pathlib.Path(args.out) / "spiece.model"
    tok = train_tokenizer(texts, args.vocab_size, out, character_coverage=args.character_coverage)
    print(f"wrote {out}: {tok.num_pieces} pieces + {tok.extra_ids} sentinels = "
          f"vocab_size {tok.vocab_size} (trained on {len(texts)} lines)")


def _encode(args):
    tok = Tokenizer(args.model)
    texts = argument_texts(args.text, "text") if args.text else stdin_lines()
    for text in texts:
        print(" ".join(str(i) for i in tok.encode(text)))


def _decode(args):
    tok = Tokenizer(args.model)
    sequences = [args.ids] if args.ids else [line.split() for line in stdin_lines()
                                             if line.strip()]
    for seq in sequences:
        try:
            ids = [int(i) for i in seq]
        except ValueError:
            raise ValueError("decode takes integer ids separated by spaces, "
                             f"got {' '.join(seq)!r}") from None
        print(tok.decode(ids))


def run(args):
    """Run the parsed `minit5 tokenizer ...` command (errors go to minit5.cli.main)."""
    command = {"train": _train, "encode": _encode, "decode": _decode}[args.tokenizer_command]
    command(args)
    return 0
