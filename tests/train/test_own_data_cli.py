"""Your own data end to end: pre-train on a corpus folder, fine-tune on a TSV and on a JSONL task
file, evaluate on a task file; and the errors a user meets with a malformed file."""
import json

import pytest

from minit5.cli import main

TINY = ["--d_model=16", "--d_kv=4", "--d_ff=32", "--num_heads=2", "--num_layers=1",
        "--batch_size=4", "--eval_every=2", "--checkpoint_every=2", "--log_every=1",
        "--eval_examples=2"]
FINE = ["--no-progress", "--steps=2", "--schedule=constant", "--lr=0.001", *TINY]


@pytest.fixture(scope="module")
def pretrained(tmp_path_factory):
    """A tiny model pre-trained with the §3.1.4 i.i.d. objective on a folder of files."""
    root = tmp_path_factory.mktemp("own")
    corpus = root / "corpus"
    corpus.mkdir()
    sentences = [f"The {w} river runs past the old mill number {i}." for i, w in
                 enumerate(["red", "blue", "green", "black", "white", "brown"] * 5)]
    (corpus / "pages.txt").write_text("\n\n".join(sentences[:15]) + "\n", encoding="utf-8")
    (corpus / "c4.jsonl").write_text("".join(
        json.dumps({"text": s, "timestamp": "2019-04-25T12:57:54Z", "url": "https://x.org"}) + "\n"
        for s in sentences[15:]), encoding="utf-8")
    run = root / "pre"
    assert main(["train", "pretrain", "--run", str(run), "--corpus", str(corpus),
                 "--vocab-size", "200", "--no-progress", "--steps=2",
                 "--objective=iid_denoising", *TINY]) == 0
    return root, run / "model"


def finetune(root, model, *extra):
    return main(["train", "finetune", "--run", str(root / "fine"), "--init", str(model),
                 "--tokenizer", str(model / "spiece.model"), *FINE, *extra])


def test_finetune_on_tsv_and_jsonl_then_eval(pretrained, capsys):
    root, model = pretrained
    tsv = root / "reverse.tsv"
    tsv.write_text("input\ttarget\n" + "".join(f"reverse: a{i} b\tb a{i}\n" for i in range(20)),
                   encoding="utf-8")
    assert finetune(root, model, "--task-file", str(tsv), "--valid-fraction=0.25") == 0
    out = capsys.readouterr().out
    assert "evaluation:" in out and "'reverse': {'exact_match'" in out
    evals = [json.loads(line) for line in (root / "fine" / "log.jsonl").open()
             if "reverse" in line]
    assert evals and evals[-1]["step"] == 2

    train = root / "copy.jsonl"
    train.write_text("".join(json.dumps({"input": f"copy: w{i}", "target": f"w{i}"}) + "\n"
                             for i in range(12)), encoding="utf-8")
    valid = root / "copy_valid.jsonl"
    valid.write_text("".join(json.dumps({"input": f"copy: v{i}", "target": f"v{i}"}) + "\n"
                             for i in range(3)), encoding="utf-8")
    assert main(["train", "finetune", "--run", str(root / "fine2"), "--init", str(model),
                 "--tokenizer", str(model / "spiece.model"), *FINE, "--task-file", str(train),
                 "--eval-file", str(valid), "--metric", "squad"]) == 0
    assert "'copy': {'em'" in capsys.readouterr().out

    assert main(["eval", "--model", str(root / "fine2" / "model"), "--task-file", str(valid),
                 "--metric", "token_f1"]) == 0
    out = capsys.readouterr().out
    assert "copy_valid" in out and "token_f1" in out


@pytest.mark.parametrize("files, extra, message", [
    ({"bad.tsv": "a\tb\nno tab here\n"}, ["--task-file", "bad.tsv"],
     "bad.tsv:2: expected 2 tab-separated columns"),
    ({"empty.jsonl": ""}, ["--task-file", "empty.jsonl"], "empty.jsonl: no examples"),
    ({"t.jsonl": '{"input": "a"}\n'}, ["--task-file", "t.jsonl"], "t.jsonl:1: no 'target'"),
    ({"t.tsv": "a\tb\nc\td\n"}, ["--task-file", "t.tsv", "--metric", "nope"],
     "unknown metric 'nope'"),
    ({"t.tsv": "a\tb\n"}, ["--eval-file", "t.tsv"], "--eval-file needs --task-file"),
])
def test_own_data_errors_are_clear(pretrained, capsys, files, extra, message):
    root, model = pretrained
    for name, text in files.items():
        (root / name).write_text(text, encoding="utf-8")
    assert finetune(root, model, *[str(root / e) if e in files else e for e in extra]) != 0
    assert message in capsys.readouterr().err
