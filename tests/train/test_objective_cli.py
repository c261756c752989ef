"""`minit5 train pretrain --objective NAME`, in a real process, for every objective chapter 10
builds: a tiny model trains two steps on a small corpus with it."""
import argparse
import json
import math
import os
import pathlib
import subprocess
import sys

import pytest

from minit5.commands import train

ROOT = pathlib.Path(__file__).resolve().parents[2]
TOKENIZER = ROOT / "tests" / "golden" / "fixtures" / "tokenizer" / "spiece.model"
TINY = ["--d_model=16", "--d_kv=4", "--d_ff=32", "--num_heads=2", "--num_layers=1",
        "--batch_size=4", "--inputs_length=32", "--eval_every=2", "--checkpoint_every=2",
        "--log_every=1", "--steps=2"]
# Tables 4 and 5 (§3.3.1-2), Tables 6 and 7 (the baseline and span corruption at other rates
# and span lengths are settings, not objectives), and Table 2's language modeling (§3.2.3).
CHAPTER_10 = ["prefix_lm", "bert_style", "deshuffle", "mass_style", "iid_denoising",
              "drop_tokens", "span_corruption", "lm"]


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    path = tmp_path_factory.mktemp("corpus") / "pages.txt"
    pages = [f"The {w} river runs past the old mill number {i} and under the {w} bridge."
             for i, w in enumerate(["red", "blue", "green", "black", "white", "brown"] * 8)]
    path.write_text("\n\n".join(pages) + "\n", encoding="utf-8")
    return path


def pretrain(tmp_path, corpus, *args):
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OPENBLAS_NUM_THREADS": "1",
           "MPLBACKEND": "Agg"}
    command = [sys.executable, "-m", "minit5.cli", "train", "pretrain", "--run",
               str(tmp_path / "run"), "--tokenizer", str(TOKENIZER), "--corpus", str(corpus),
               "--no-progress", *TINY, *args]
    return subprocess.run(command, capture_output=True, text=True, env=env, cwd=tmp_path,
                          timeout=300)


@pytest.mark.parametrize("name", CHAPTER_10)
def test_pretrain_with_every_objective_of_chapter_10(tmp_path, corpus, name):
    result = pretrain(tmp_path, corpus, "--objective", name)
    assert result.returncode == 0, result.stderr
    run = tmp_path / "run"
    losses = [row["loss"] for row in map(json.loads, (run / "log.jsonl").open()) if "loss" in row]
    assert len(losses) == 2 and all(math.isfinite(loss) for loss in losses), losses
    state = json.loads((run / "checkpoints" / "step-0000002" / "trainer.json").read_text())
    assert state["config"]["objective"] == name


def test_a_setting_the_objective_does_not_take_is_one_line(tmp_path, corpus):
    result = pretrain(tmp_path, corpus, "--objective=deshuffle", "--noise_density=0.3")
    assert result.returncode == 2 and "Traceback" not in result.stderr, result.stderr
    assert "--noise_density=0.3 does not apply to --objective=deshuffle" in result.stderr
    assert not (tmp_path / "run").exists(), "a bad setting should stop before any work"


def test_the_help_lists_every_objective_and_refuses_others(capsys):
    parser = train.add_parser(argparse.ArgumentParser().add_subparsers())
    text = " ".join(parser.format_help().split())
    for name in CHAPTER_10:
        assert f"{name} (§3." in text, name
    with pytest.raises(SystemExit) as exit_status:
        parser.parse_args(["pretrain", "--run", "x", "--objective", "bert"])
    assert exit_status.value.code == 2
    assert "invalid choice: 'bert'" in capsys.readouterr().err
