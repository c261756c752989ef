"""The command line as a new user meets it, in real subprocesses: each case of issue 30 gets the
exact message (or behaviour) a user now sees."""
import gzip
import json
import os
import signal
import subprocess
import sys
import time

import pytest

from minit5 import T5Config, T5ForConditionalGeneration
from minit5.data.tokenizer import Tokenizer
from tests.test_generate_command import TOKENIZER

TINY = ["--d_model=16", "--d_kv=4", "--d_ff=32", "--num_heads=2", "--num_layers=1",
        "--batch_size=4", "--eval_examples=2", "--no-progress"]


def minit5(*argv, timeout=120):
    return subprocess.run([sys.executable, "-m", "minit5.cli", *map(str, argv)],
                          capture_output=True, text=True, timeout=timeout)


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory):
    """A random tiny model over the fixture tokenizer, with spiece.model beside it."""
    directory = tmp_path_factory.mktemp("model")
    config = T5Config(vocab_size=Tokenizer(TOKENIZER).vocab_size, d_model=16, d_kv=4, d_ff=32,
                      num_heads=2, num_layers=1, dropout_rate=0.0)
    T5ForConditionalGeneration(config, seed=0).save_pretrained(directory)
    (directory / "spiece.model").write_bytes(TOKENIZER.read_bytes())
    return directory


WORDS = ["river", "mill", "stone", "bridge", "market", "garden", "tower", "harbour"]
DOCUMENTS = [f"The {a} stands near the {b} by the {c}, and people walk there at noon."
             for a in WORDS for b in WORDS for c in WORDS[:3]]


def test_tokenizer_train_reads_a_c4_shard_as_json(tmp_path):
    shard = tmp_path / "c4-train.00000-of-01024.json.gz"
    with gzip.open(shard, "wt", encoding="utf-8") as f:
        for text in DOCUMENTS:
            f.write(json.dumps({"text": text, "timestamp": "2019-04-25T12:57:54Z",
                                "url": "https://example.org/page"}) + "\n")
    done = minit5("tokenizer", "train", "--input", shard, "--vocab-size", 40,
                  "--out", tmp_path / "tok")
    assert done.returncode == 0, done.stderr
    assert f"(trained on {len(DOCUMENTS)} lines)" in done.stdout
    tokenizer = Tokenizer(tmp_path / "tok")
    pieces = [tokenizer.id_to_piece(i) for i in range(tokenizer.num_pieces)]
    assert not [p for p in pieces if any(c in p for c in '{}":')], "JSON syntax was learned"


def test_tokenizer_train_reads_a_folder_as_the_corpus_does(tmp_path):
    (tmp_path / "docs" / "more").mkdir(parents=True)
    (tmp_path / "docs" / "a.txt").write_text("\n\n".join(DOCUMENTS[:100]) + "\n")
    (tmp_path / "docs" / "more" / "b.jsonl").write_text(
        "".join(json.dumps({"text": t}) + "\n" for t in DOCUMENTS[100:]))
    done = minit5("tokenizer", "train", "--input", tmp_path / "docs", "--vocab-size", 40,
                  "--out", tmp_path / "tok")
    assert done.returncode == 0, done.stderr
    assert f"(trained on {len(DOCUMENTS)} lines)" in done.stdout


def test_pretrain_refuses_a_task_file_it_would_ignore(tmp_path):
    task = tmp_path / "task.tsv"
    task.write_text("a\tb\n")
    done = minit5("train", "pretrain", "--run", tmp_path / "run", "--task-file", task)
    assert done.returncode == 2
    assert done.stderr.strip() == (
        "minit5 train: error: --task-file is an option of `minit5 train finetune`; `minit5 "
        "train pretrain` would ignore it. Drop it, or run finetune")


def test_eval_on_a_missing_model_folder_names_the_folder(tmp_path):
    done = minit5("eval", "--model", tmp_path / "nope")
    assert done.returncode == 2
    assert done.stderr.strip() == (
        f"minit5 eval: error: checkpoint folder {tmp_path / 'nope'} does not exist (minit5 "
        "reads local folders only; download a model first)")


def test_generate_cuts_a_prompt_longer_than_the_limit_with_a_warning(model_dir):
    prompt = "summarize: " + " ".join(WORDS * 40)           # far more than 64 tokens
    done = minit5("generate", "--model", model_dir, "--max-input-tokens", 64,
                  "--max-new-tokens", 2, prompt)
    assert done.returncode == 0, done.stderr
    length = len(Tokenizer(TOKENIZER).encode(prompt))
    assert done.stderr.strip() == (f"minit5 generate: warning: prompt 1 is {length:,} tokens "
                                   "long; it was cut to its first 64 (--max-input-tokens 64)")
    assert len(done.stdout.splitlines()) == 1


def test_a_task_example_longer_than_the_limit_is_refused(tmp_path, model_dir):
    task = tmp_path / "long.tsv"
    task.write_text("short one\tyes\n" + " ".join(WORDS * 30) + "\tno\n")
    length = len(Tokenizer(TOKENIZER).encode(" ".join(WORDS * 30)))
    done = minit5("eval", "--model", model_dir, "--task-file", task, "--max-tokens", 100)
    assert done.returncode == 2
    assert done.stderr.strip() == (
        f"minit5 eval: error: {task}: example 2's input ('river mill stone bridge market'...)"
        f" is {length:,} tokens long, more than the 100 this model is trained and evaluated "
        "on; shorten or split it, or raise the limit with --max-tokens (memory grows with its "
        "square)")
    done = minit5("train", "finetune", "--run", tmp_path / "run", "--tokenizer", TOKENIZER,
                  "--task-file", task, "--max-tokens", 100, *TINY)
    assert done.returncode == 2 and "example 2's input" in done.stderr


@pytest.mark.skipif(sys.platform == "win32", reason="SIGINT to a process")
def test_ctrl_c_during_finetune_exits_130_and_says_how_to_resume(tmp_path):
    run = tmp_path / "run"
    job = subprocess.Popen([sys.executable, "-m", "minit5.cli", "train", "finetune", "--run",
                            str(run), "--tokenizer", str(TOKENIZER), "--steps=100000",
                            "--log_every=1", "--eval_every=100000", "--checkpoint_every=100000",
                            *TINY], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and not (
                (run / "log.jsonl").exists() and (run / "log.jsonl").stat().st_size):
            time.sleep(0.1)
        job.send_signal(signal.SIGINT)                       # Ctrl-C
        out, err = job.communicate(timeout=120)
    finally:
        if job.poll() is None:
            job.kill()
    assert job.returncode == 130, err
    assert "model written" not in out and not (run / "model").exists()
    last = err.strip().splitlines()[-1]
    step = int(last.split("interrupted at step ")[1].split()[0])
    checkpoint = run / "checkpoints" / f"step-{step:07d}"
    assert checkpoint.is_dir()
    assert last == (f"minit5 train: interrupted at step {step} of 100000. The newest "
                    f"checkpoint, {checkpoint}, is kept ({run / 'model'} is written only when "
                    "a run ends): add --resume to the same command to continue from it")
    assert os.path.exists(run / "log.jsonl")


@pytest.mark.skipif(sys.platform == "win32", reason="SIGINT to a process group")
def test_ctrl_c_during_the_demo_exits_130_without_a_traceback(tmp_path):
    job = subprocess.Popen([sys.executable, "-m", "minit5.demo", "--run", str(tmp_path / "demo"),
                            "--scale", "0.01", "--seeds", "1"], stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, text=True, start_new_session=True)
    try:
        assert job.stdout.readline().startswith("Pre-training a tiny T5")
        time.sleep(1.0)
        os.killpg(job.pid, signal.SIGINT)                    # Ctrl-C in a terminal
        _, err = job.communicate(timeout=120)
    finally:
        if job.poll() is None:
            os.killpg(job.pid, signal.SIGKILL)
    assert job.returncode == 130
    assert "Traceback" not in err, err
    assert err.strip().splitlines()[-1] == (
        "minit5 demo: interrupted. The demo starts afresh each time (its folder is emptied "
        "first), so there is nothing to resume: run it again")


@pytest.mark.parametrize("option", [["--metric", "squad"], ["--valid-fraction", "0.2"],
                                    ["--max-tokens", "64"]])
def test_task_file_options_without_a_task_file_are_refused(tmp_path, option):
    done = minit5("train", "finetune", "--run", tmp_path / "run", "--tokenizer", TOKENIZER,
                  *option)
    assert done.returncode == 2
    assert done.stderr.strip() == (f"minit5 train: error: {option[0]} needs --task-file (the "
                                   "training examples); without it the option would be ignored")


@pytest.mark.parametrize("option", [["--metric", "squad"], ["--max-tokens", "64"]])
def test_eval_refuses_task_file_options_without_a_task_file(tmp_path, option):
    done = minit5("eval", "--model", tmp_path / "model", *option)
    assert done.returncode == 2
    assert done.stderr.strip() == (
        f"minit5 eval: error: {option[0]} needs --task-file (the examples to score); without "
        "it the synthetic tasks are scored and the option would be ignored")


@pytest.mark.parametrize("option", [["--examples", "8"], ["--seed", "3"]])
def test_eval_refuses_synthetic_options_with_a_task_file(tmp_path, option):
    done = minit5("eval", "--model", tmp_path / "model", "--task-file", tmp_path / "t.tsv",
                  *option)
    assert done.returncode == 2
    assert done.stderr.strip() == (
        f"minit5 eval: error: {option[0]} sets the synthetic tasks' evaluation sets; with "
        "--task-file every example of the file is scored and the option would be ignored. "
        "Drop it")
