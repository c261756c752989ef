"""`minit5 generate`: prompts from arguments or stdin, decoded outputs, clear path errors."""
import io
import pathlib
import shutil

import numpy as np
import pytest

from minit5 import T5Config, T5ForConditionalGeneration
from minit5.cli import main
from minit5.commands import generate as command

TOKENIZER = pathlib.Path(__file__).parent / "golden" / "fixtures" / "tokenizer" / "spiece.model"
PROMPTS = ["summarize: the cat sat on the mat", "translate English to German: hello",
           "cola sentence: the the the"]


def _run(argv):
    return main(["generate", *argv])


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory):
    """A random tiny model over the fixture tokenizer's vocabulary, with spiece.model beside it."""
    from minit5.data.tokenizer import Tokenizer
    vocab_size = Tokenizer(TOKENIZER).vocab_size
    config = T5Config(vocab_size=vocab_size, d_model=16, d_kv=4, d_ff=32, num_heads=2,
                      num_layers=2, dropout_rate=0.0)
    directory = tmp_path_factory.mktemp("ckpt")
    T5ForConditionalGeneration(config, seed=0).save_pretrained(directory)
    shutil.copy(TOKENIZER, directory / "spiece.model")
    return directory


def expected_outputs(directory, prompts, **options):
    from minit5.data.tokenizer import Tokenizer
    tokenizer = Tokenizer(TOKENIZER)
    model = T5ForConditionalGeneration.from_pretrained(directory)
    ids, mask = command.pad_batch([tokenizer.encode(p) for p in prompts])
    out = model.generate(ids, attention_mask=mask, **options)
    return [tokenizer.decode(row[1:]) for row in out]


def test_prompts_as_arguments(checkpoint, capsys):
    assert _run(["--model", str(checkpoint), "--max-new-tokens", "5", *PROMPTS]) == 0
    lines = capsys.readouterr().out.split("\n")
    assert lines[:-1] == expected_outputs(checkpoint, PROMPTS, max_new_tokens=5)


def test_prompts_from_stdin_with_beams_and_small_batches(checkpoint, capsys, monkeypatch):
    monkeypatch.setattr("sys.stdin", io.StringIO("\n".join(PROMPTS) + "\n\n"))
    argv = ["--model", str(checkpoint), "--tokenizer", str(TOKENIZER), "--num-beams", "2",
            "--max-new-tokens", "4", "--batch-size", "2"]
    assert _run(argv) == 0
    lines = capsys.readouterr().out.split("\n")[:-1]
    expected = (expected_outputs(checkpoint, PROMPTS[:2], max_new_tokens=4, num_beams=2)
                + expected_outputs(checkpoint, PROMPTS[2:], max_new_tokens=4, num_beams=2))
    assert lines == expected


def test_missing_model_directory_is_named(tmp_path, capsys):
    assert _run(["--model", str(tmp_path / "nowhere"), "hi"]) == 2
    err = capsys.readouterr().err
    assert "nowhere: no such directory" in err and "save_pretrained" in err


def test_missing_tokenizer_is_named(checkpoint, tmp_path, capsys):
    assert _run(["--model", str(checkpoint), "--tokenizer", str(tmp_path / "tok.model"),
                 "hi"]) == 2
    err = capsys.readouterr().err
    assert "tok.model: no such file" in err and "--tokenizer" in err


def test_model_folder_without_spiece_needs_tokenizer(checkpoint, tmp_path, capsys):
    bare = tmp_path / "bare"
    bare.mkdir()
    for name in ("config.json", "model.safetensors"):
        shutil.copy(checkpoint / name, bare / name)
    assert _run(["--model", str(bare), "hi"]) == 2
    err = capsys.readouterr().err
    assert "spiece.model" in err and "--tokenizer PATH/spiece.model" in err


def test_bad_numbers_are_refused(checkpoint, capsys):
    assert _run(["--model", str(checkpoint), "--num-beams", "0", "hi"]) == 2
    assert "--num-beams must be at least 1" in capsys.readouterr().err


def test_pad_batch():
    ids, mask = command.pad_batch([[5, 1], [7, 8, 9, 1]])
    np.testing.assert_array_equal(ids, [[5, 1, 0, 0], [7, 8, 9, 1]])
    np.testing.assert_array_equal(mask, [[1, 1, 0, 0], [1, 1, 1, 1]])
