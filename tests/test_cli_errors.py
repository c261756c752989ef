"""The CLI under bad input: one line on stderr naming the problem and the fix, exit status 2,
never a traceback."""
import io
import os
import pathlib
import shutil
import subprocess
import sys

import pytest

from minit5 import T5Config, T5ForConditionalGeneration
from minit5.cli import main

ROOT = pathlib.Path(__file__).resolve().parents[1]
TOKENIZER = ROOT / "tests" / "golden" / "fixtures" / "tokenizer" / "spiece.model"


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory):
    from minit5.data.tokenizer import Tokenizer
    config = T5Config(vocab_size=Tokenizer(TOKENIZER).vocab_size, d_model=16, d_kv=4, d_ff=32,
                      num_heads=2, num_layers=1, dropout_rate=0.0)
    directory = tmp_path_factory.mktemp("ckpt")
    T5ForConditionalGeneration(config, seed=0).save_pretrained(directory)
    shutil.copy(TOKENIZER, directory / "spiece.model")
    return directory


def fails(capsys, argv, *words):
    """main(argv) exits 2 with one stderr line holding every word; returns that line."""
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and "Traceback" not in err, err
    for word in words:
        assert word in err, f"{word!r} not in {err!r}"
    return err


@pytest.mark.parametrize("setting, words", [
    ("--mean_noise_span_length=0", ["--mean_noise_span_length=0.0", ">= 1"]),
    ("--warmup_steps=-5", ["--warmup_steps=-5", ">= 0"]),
    ("--clip_grad_norm=-1", ["--clip_grad_norm=-1.0", ">= 0 (0 turns clipping off)"]),
    ("--noise_density=1.5", ["--noise_density=1.5", "in (0, 1)"]),
    ("--lr=nan", ["--lr must be a finite number"]),
    ("--lr=0", ["--lr=0.0", "> 0"]),
    ("--steps=0", ["--steps must be a positive integer"]),
    ("--dropout_rate=1", ["--dropout_rate=1.0", "in [0, 1)"]),
    ("--seed=-3", ["--seed=-3", ">= 0"]),
    ("--inputs_length=1", ["--inputs_length=1", ">= 2"]),
    ("--feed_forward_proj=tanh", ["feed_forward_proj='tanh'", "gated-gelu"]),
])
def test_every_setting_is_range_checked(tmp_path, capsys, setting, words):
    fails(capsys, ["train", "pretrain", "--run", str(tmp_path / "run"), setting], *words)
    assert not (tmp_path / "run").exists(), "a bad setting should stop before any work"


def test_inverse_sqrt_needs_a_warmup(tmp_path, capsys):
    fails(capsys, ["train", "pretrain", "--run", str(tmp_path / "r"), "--warmup_steps=0"],
          "--warmup_steps must be >= 1 with --schedule=inverse_sqrt")


def test_run_pointing_at_a_file(tmp_path, capsys):
    target = tmp_path / "run.txt"
    target.write_text("notes")
    fails(capsys, ["train", "pretrain", "--run", str(target)], str(target), "is a file")
    assert target.read_text() == "notes"


def test_model_pointing_at_a_file(checkpoint, capsys):
    fails(capsys, ["eval", "--model", str(checkpoint / "model.safetensors"), "--tokenizer",
                   str(TOKENIZER)], "is a file, not a checkpoint folder", str(checkpoint))


def test_a_corrupt_checkpoint_is_one_line(tmp_path, checkpoint, capsys):
    broken = tmp_path / "broken"
    shutil.copytree(checkpoint, broken)
    (broken / "model.safetensors").write_bytes(b"\x05\x00\x00\x00\x00\x00\x00\x00[1,2]")
    fails(capsys, ["generate", "--model", str(broken), "hello"],
          str(broken / "model.safetensors"), "not an object")


def test_tokenizer_train_names_the_file_and_line_of_bad_bytes(tmp_path, capsys):
    corpus = tmp_path / "corpus.txt"
    corpus.write_bytes("a good line\n".encode() + "caf\xe9 in latin-1\n".encode("latin-1"))
    fails(capsys, ["tokenizer", "train", "--input", str(corpus), "--vocab-size", "50",
                   "--out", str(tmp_path / "tok")], f"{corpus}:2", "not UTF-8")


def test_generate_stdin_names_the_line_of_bad_bytes(checkpoint, capsys, monkeypatch):
    stdin = io.TextIOWrapper(io.BytesIO(b"fine prompt\n\xff\xfe broken\n"), encoding="utf-8")
    monkeypatch.setattr("sys.stdin", stdin)
    fails(capsys, ["generate", "--model", str(checkpoint)], "stdin, line 2", "not UTF-8",
          "byte 0xff")


def test_lone_surrogates_are_reported_as_such(checkpoint, capsys, monkeypatch):
    fails(capsys, ["generate", "--model", str(checkpoint), "ok", "caf\udce9"],
          "prompt 2 cannot be encoded as UTF-8", "lone surrogate")
    fails(capsys, ["tokenizer", "encode", "--model", str(TOKENIZER), "x\ud800"],
          "text 1 cannot be encoded as UTF-8")
    monkeypatch.setattr("sys.stdin", io.StringIO("fine\nbad \udcff here\n"))
    fails(capsys, ["tokenizer", "encode", "--model", str(TOKENIZER)],
          "stdin, line 2 cannot be encoded as UTF-8")


def test_os_errors_from_deep_inside_are_one_line(tmp_path, checkpoint, capsys, monkeypatch):
    def full_disk(*args, **kwargs):
        raise OSError(28, "No space left on device", str(tmp_path / "x"))
    monkeypatch.setattr(T5ForConditionalGeneration, "from_pretrained", full_disk)
    fails(capsys, ["generate", "--model", str(checkpoint), "hi"], "No space left on device")


@pytest.mark.skipif(os.name != "posix", reason="argv bytes that are not UTF-8 need POSIX")
def test_real_process_non_utf8_argument_and_exit_status(tmp_path):
    """A real `minit5` process: argv bytes that are not UTF-8, and --run at a file."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    command = [sys.executable, "-m", "minit5.cli", "tokenizer", "encode", "--model",
               os.fsencode(TOKENIZER), b"caf\xe9"]
    result = subprocess.run(command, capture_output=True, env=env, cwd=tmp_path, timeout=120)
    err = result.stderr.decode("utf-8", "replace").strip()
    assert result.returncode == 2 and "Traceback" not in err, err
    assert "text 1 cannot be encoded as UTF-8" in err and "lone surrogate" in err
