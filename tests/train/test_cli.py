"""`minit5 train pretrain`, `minit5 train finetune --init`, `minit5 eval`, end to end and tiny."""
import json

import pytest

from minit5.cli import main

TINY = ["--d_model=16", "--d_kv=4", "--d_ff=32", "--num_heads=2", "--num_layers=1",
        "--batch_size=4", "--eval_every=3", "--checkpoint_every=3", "--log_every=1",
        "--eval_examples=2"]


def test_pretrain_finetune_eval(tmp_path, capsys):
    pre = tmp_path / "pre"
    assert main(["train", "pretrain", "--run", str(pre), "--vocab-size", "300",
                 "--no-progress", "--steps=3", *TINY]) == 0
    assert (pre / "model" / "model.safetensors").exists()
    assert (pre / "model" / "spiece.model").exists()
    logged = [json.loads(line) for line in (pre / "log.jsonl").open()]
    assert [r["step"] for r in logged if "loss" in r] == [1, 2, 3]

    fine = tmp_path / "fine"
    assert main(["train", "finetune", "--run", str(fine), "--init", str(pre / "model"),
                 "--tokenizer", str(pre / "model" / "spiece.model"), "--no-progress",
                 "--steps=3", "--schedule=constant", "--lr=0.001", *TINY]) == 0
    assert main(["eval", "--model", str(fine / "model"), "--examples", "2"]) == 0
    out = capsys.readouterr().out
    for task in ("polarity", "similarity", "reverse", "pig_latin", "lookup"):
        assert task in out

    # resume: asking for 3 more steps continues from the checkpoint at step 3
    assert main(["train", "finetune", "--run", str(fine), "--init", str(pre / "model"),
                 "--tokenizer", str(pre / "model" / "spiece.model"), "--no-progress",
                 "--resume", "--steps=6", "--schedule=constant", "--lr=0.001", *TINY]) == 0
    steps = [json.loads(line)["step"] for line in (fine / "log.jsonl").open()]
    assert steps[-1] == 6 and steps == sorted(steps)


@pytest.mark.parametrize("args, message", [
    (["train", "pretrain", "--run", "x", "--stepz=3"], "unknown setting --stepz"),
    (["train", "finetune", "--run", "x"], "finetune needs --tokenizer"),
    (["eval", "--model", "/nonexistent/model"], "/nonexistent/model"),
])
def test_cli_errors_are_clear(tmp_path, capsys, monkeypatch, args, message):
    monkeypatch.chdir(tmp_path)
    assert main(args) == 2
    assert message in capsys.readouterr().err
