"""The T5 tokenizer: special ids, sentinels, encode/decode, batches, training, errors, CLI."""
import io
import json

import numpy as np
import pytest
import sentencepiece as spm
from hypothesis import given, settings
from hypothesis import strategies as st

from minit5.data.tokenizer import Tokenizer, train_tokenizer

SYLLABLES = "ka ri to na me su lo pe an ti qu ex ber ing ed ly un re pro com tion ment ful".split()


def make_words(seed=0, count=400):
    rng = np.random.default_rng(seed)
    return ["".join(rng.choice(SYLLABLES, size=rng.integers(1, 4))) for _ in range(count)]


def make_texts(words, seed=0, count=1500):
    rng = np.random.default_rng(seed)
    return [" ".join(rng.choice(words, size=rng.integers(3, 16))) + "." for _ in range(count)]


WORDS = make_words()
TEXTS = make_texts(WORDS)


@pytest.fixture(scope="module")
def tok(tmp_path_factory):
    return train_tokenizer(TEXTS, 300, tmp_path_factory.mktemp("tok") / "spiece.model")


def test_special_ids_and_sizes(tok):
    assert (tok.pad_id, tok.eos_id, tok.unk_id) == (0, 1, 2)
    assert [tok.id_to_piece(i) for i in range(3)] == ["<pad>", "</s>", "<unk>"]
    assert tok.num_pieces == 300
    assert tok.vocab_size == 300 + 100


def test_sentinels_count_down_from_the_top(tok):
    assert tok.sentinel_id(0) == tok.vocab_size - 1
    assert tok.sentinel_id(99) == tok.num_pieces
    assert tok.id_to_piece(tok.vocab_size - 1) == "<extra_id_0>"
    assert tok.id_to_piece(tok.num_pieces) == "<extra_id_99>"
    with pytest.raises(ValueError, match="out of range"):
        tok.sentinel_id(100)


def test_encode_appends_eos_and_reads_sentinels(tok):
    plain = tok.encode("kari tona")
    assert plain[-1] == 1 and 1 not in plain[:-1]
    assert tok.encode("kari tona", add_eos=False) == plain[:-1]
    with_sentinel = tok.encode("kari <extra_id_0> tona <extra_id_12>")
    assert with_sentinel.count(tok.sentinel_id(0)) == 1
    assert with_sentinel[-2:] == [tok.sentinel_id(12), 1]
    # Only the exact names are special, and the longest name wins.
    assert tok.encode("<extra_id_10>") == [tok.sentinel_id(10), 1]
    assert tok.sentinel_id(100 - 1) in tok.encode("<extra_id_99>")
    assert not any(tok.is_sentinel(i) for i in tok.encode("<extra_id_100> <extra_id_01>"))


def test_encode_empty_and_whitespace(tok):
    assert tok.encode("") == [1]
    assert tok.encode("  \t\n ") == [1]


def test_decode_stops_at_eos_drops_pad_and_shows_sentinels(tok):
    ids = tok.encode("kari <extra_id_0> tona", add_eos=False)
    assert tok.decode(ids + [1] + tok.encode("ber")) == "kari<extra_id_0> tona"
    assert tok.decode([0, 0] + ids + [1, 0, 0]) == "kari<extra_id_0> tona"
    assert tok.decode(np.array([tok.sentinel_id(3), 1])) == "<extra_id_3>"
    with pytest.raises(ValueError, match="out of range"):
        tok.decode([tok.vocab_size])


@given(st.lists(st.sampled_from(WORDS), min_size=0, max_size=12))
@settings(max_examples=60)
def test_decode_inverts_encode_on_known_words(tok, words):
    text = " ".join(words)
    assert tok.decode(tok.encode(text)) == text


def test_batch_encode_pads_to_longest(tok):
    texts = ["kari", "kari tona ber ing", ""]
    ids, mask = tok.batch_encode(texts)
    rows = [tok.encode(t) for t in texts]
    assert ids.dtype == np.int64 and ids.shape == (3, max(map(len, rows)))
    for b, row in enumerate(rows):
        assert ids[b, :len(row)].tolist() == row
        assert (ids[b, len(row):] == 0).all()
        assert mask[b].tolist() == [1] * len(row) + [0] * (ids.shape[1] - len(row))


def test_batch_encode_max_length_truncates_keeping_eos(tok):
    long_text = " ".join(WORDS[:30])
    ids, mask = tok.batch_encode([long_text, "kari"], max_length=8, padding="max_length")
    assert ids.shape == (2, 8)
    assert ids[0].tolist() == tok.encode(long_text)[:7] + [1]
    assert mask[0].all()
    with pytest.raises(ValueError, match="truncation=True"):
        tok.batch_encode([long_text], max_length=8, truncation=False)
    with pytest.raises(ValueError, match="max_length"):
        tok.batch_encode(["kari"], padding="max_length")
    with pytest.raises(TypeError, match="list of str"):
        tok.batch_encode("kari")


def test_training_is_deterministic(tmp_path):
    a = train_tokenizer(TEXTS[:500], 200, tmp_path / "a" / "spiece.model")
    b = train_tokenizer(TEXTS[:500], 200, tmp_path / "b" / "spiece.model")
    assert a.path.read_bytes() == b.path.read_bytes()


def test_vocab_too_large_is_a_clear_error(tmp_path):
    with pytest.raises(ValueError, match="too large.*Lower vocab_size"):
        train_tokenizer(["kari tona."] * 20, 5000, tmp_path / "spiece.model")
    assert not (tmp_path / "spiece.model").exists()


def test_missing_model_names_path_and_fix(tmp_path):
    with pytest.raises(FileNotFoundError, match="nowhere.*minit5 tokenizer train"):
        Tokenizer(tmp_path / "nowhere" / "spiece.model")


def test_unreadable_model_names_path_and_fix(tmp_path):
    bad = tmp_path / "spiece.model"
    bad.write_bytes(b"not a sentencepiece model")
    with pytest.raises(ValueError, match="spiece.model.*minit5 tokenizer train"):
        Tokenizer(bad)


def test_folder_with_spiece_model_loads(tok):
    assert Tokenizer.from_file(tok.path.parent).vocab_size == tok.vocab_size


def test_model_without_t5_ids_is_refused(tmp_path):
    path = tmp_path / "plain.model"
    with open(path, "wb") as f:   # SentencePiece's own defaults: unk 0, bos 1, eos 2
        spm.SentencePieceTrainer.Train(sentence_iterator=iter(TEXTS[:300]), model_writer=f,
                                       vocab_size=100, minloglevel=2)
    with pytest.raises(ValueError, match=r"needs \(0, 1, 2\)"):
        Tokenizer(path)


def _run(argv):
    from minit5.cli import main  # main turns errors into one line on stderr and status 2
    return main(argv)


def test_cli_train_encode_decode(tmp_path, capsys):
    txt = tmp_path / "corpus.txt"
    txt.write_text("\n".join(TEXTS[:800]) + "\n\n", encoding="utf-8")
    assert _run(["tokenizer", "train", "--input", str(txt), "--vocab-size", "150",
                 "--out", str(tmp_path / "tok")]) == 0
    assert "vocab_size 250" in capsys.readouterr().out
    assert _run(["tokenizer", "encode", "--model", str(tmp_path / "tok"), "kari <extra_id_0>"]) == 0
    ids = capsys.readouterr().out.split()
    assert ids[-2:] == ["249", "1"]
    assert _run(["tokenizer", "decode", "--model", str(tmp_path / "tok"), *ids]) == 0
    assert capsys.readouterr().out == "kari<extra_id_0>\n"


def test_cli_train_reads_jsonl_and_reports_bad_field(tmp_path, capsys):
    jsonl = tmp_path / "corpus.jsonl"
    jsonl.write_text("".join(json.dumps({"body": t}) + "\n" for t in TEXTS[:800]), encoding="utf-8")
    out = str(tmp_path / "tok")
    argv = ["tokenizer", "train", "--input", str(jsonl), "--vocab-size", "150", "--out", out]
    assert _run(argv) == 2
    assert "--text-field" in capsys.readouterr().err
    assert _run(argv + ["--text-field", "body"]) == 0
    assert Tokenizer(out).num_pieces == 150


def test_cli_encode_reads_stdin_and_reports_missing_model(tmp_path, tok, capsys, monkeypatch):
    monkeypatch.setattr("sys.stdin", io.StringIO("kari\ntona\n"))
    assert _run(["tokenizer", "encode", "--model", str(tok.path)]) == 0
    lines = capsys.readouterr().out.splitlines()
    decoded = [list(map(int, line.split())) for line in lines]
    assert decoded == [tok.encode("kari"), tok.encode("tona")]
    assert _run(["tokenizer", "encode", "--model", str(tmp_path / "none"), "x"]) == 2
    assert "not found" in capsys.readouterr().err
