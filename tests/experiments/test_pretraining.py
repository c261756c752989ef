"""The miniatures' protocol (minit5.experiments.pretraining): rows, objectives, data, caching, and a
seconds-long run end to end at a tiny shape."""
import json
import math

import numpy as np
import pytest

from minit5.data import objectives
from minit5.data.tokenizer import EOS_ID
from minit5.experiments import get, pretraining
from minit5.experiments.multitask import mixture
from minit5.experiments.run_cache import RunCache
from minit5.train.streams import ObjectiveStream, document_pieces

VOCAB = 300


def test_variant_refuses_unknown_settings():
    with pytest.raises(ValueError, match="architecture 'rnn'"):
        pretraining.variant("rnn")
    with pytest.raises(ValueError, match="objective 'mlm'"):
        pretraining.variant(objective="mlm")
    with pytest.raises(ValueError, match="corpus 'web'"):
        pretraining.variant(corpus="web")
    with pytest.raises(ValueError, match="repeats"):
        pretraining.variant(repeats=0)
    with pytest.raises(ValueError, match="no parameter 'noise_rate'"):
        pretraining.variant(noise_rate=0.5)             # iid_denoising takes noise_density
    with pytest.raises(ValueError, match="shape has only"):
        pretraining.variant(model={"layers": 4})
    with pytest.raises(ValueError, match="pretrain_seed"):
        pretraining.variant(pretrain_seed=-1)
    with pytest.raises(TypeError, match="mixture must be"):
        pretraining.Variant(mixture="K=512")
    with pytest.raises(TypeError, match="a setting is a name and"):
        pretraining.variant(noise_density=[0.1])


def test_a_variant_is_a_frozen_value_whose_form_round_trips():
    """Equal fields, equal rows (and hashes), however they were written; the serialised form
    (a results file's `variants`) reads back to the same row; a row cannot be changed."""
    a = pretraining.variant(objective="span_corruption", mean_noise_span_length=3.0,
                            mixture=mixture(K=2**9), finetuning={"method": "all parameters"})
    b = pretraining.Variant(objective="span_corruption", params={"mean_noise_span_length": 3.0},
                            mixture={"strategy": "proportional", "K": 512},
                            finetuning={"method": "all parameters"})
    assert a == b and hash(a) == hash(b) and len({a, b, pretraining.BASELINE}) == 2
    assert a != a.replace(pretrain_seed=1)
    form = a.to_config()
    assert json.loads(json.dumps(form)) == form
    assert list(form) == ["architecture", "objective", "params", "corpus", "repeats",
                          "mixture", "finetuning"]                  # set fields only
    assert pretraining.Variant.from_config(form) == a
    with pytest.raises(ValueError, match="no setting"):
        pretraining.Variant.from_config({**form, "seed": 3})
    with pytest.raises(AttributeError):
        a.objective = "lm"
    with pytest.raises(TypeError):
        a.params["mean_noise_span_length"] = 5.0


def test_a_row_changes_only_steps_and_batch_size_of_pre_training():
    with pytest.raises(ValueError, match="may change only"):
        pretraining.variant(pretrain={"lr": 1.0})
    resolved = pretraining.resolved(pretraining.variant(pretrain={"steps": 200}), 0.5, 100)
    assert dict(resolved.pretrain) == pretraining.pretraining_phase(200, 0.5)

def test_the_baseline_row_is_the_same_settings_in_every_table():
    """The ★ row of each table is one pre-training run (shared through the cache)."""
    baseline_rows = {"table2": "encoder-decoder, denoising", "table5": "replace corrupted spans",
                     "table6": "15%", "table7": "i.i.d.",
                     "table8": "C4-like: cleaned stdlib docs", "table9": "full data set"}
    for name, row in baseline_rows.items():
        assert pretraining.variants(get(name).config(1.0))[row] == pretraining.BASELINE, name
    assert pretraining.BASELINE.to_config() == {"architecture": "encoder-decoder",
                                                "objective": "iid_denoising", "params": {},
                                                "corpus": "cleaned", "repeats": None}


def test_every_table_shares_the_protocol_and_differs_only_in_its_rows():
    configs = [get(n).config(1.0) for n in ("table2", "table4", "table5", "table6", "table7",
                                            "table8", "table9")]
    shared = [{k: v for k, v in c.items() if k != "variants"} for c in configs]
    assert all(s == shared[0] for s in shared)
    assert shared[0]["pretrain"]["steps"] == 400 and shared[0]["finetune"]["steps"] == 200
    for name in ("table2", "table4", "table5", "table6", "table7", "table8", "table9"):
        experiment = get(name)
        assert tuple(experiment.config(1.0)["variants"]) == experiment.rows
        assert set(experiment.paper) <= set(experiment.rows)


@pytest.mark.parametrize("name", list(objectives.OBJECTIVES))
def test_every_objective_turns_a_piece_into_a_pair_ending_in_eos(name):
    piece = np.arange(3, 66, dtype=np.int64)                          # 63 tokens
    objective = pretraining.variant(objective=name).make_objective(VOCAB)
    inputs, targets = objective(piece, np.random.default_rng(0))
    again = objective(piece, np.random.default_rng(0))
    assert inputs[-1] == EOS_ID and targets[-1] == EOS_ID
    assert np.array_equal(inputs, again[0]) and np.array_equal(targets, again[1])
    assert len(targets) > 1


def test_objective_parameters_reach_the_objective():
    piece = np.arange(3, 66, dtype=np.int64)
    rng = np.random.default_rng(0)
    lengths = {}
    for rate in (0.1, 0.5):
        objective = pretraining.variant(noise_density=rate).make_objective(VOCAB)
        pairs = [objective(piece, rng) for _ in range(50)]
        lengths[rate] = np.mean([len(t) for _, t in pairs])
    assert lengths[0.5] > 2 * lengths[0.1]                 # more noise, longer targets


def test_objective_stream_is_a_function_of_seed_and_step():
    pieces = document_pieces([np.arange(3, 300)], 63)
    assert [len(p) for p in pieces] == [63, 63, 63, 63, 45]
    objective = pretraining.BASELINE.make_objective(VOCAB)
    a = ObjectiveStream(pieces, objective, list, 4, seed=0)
    b = ObjectiveStream(pieces, objective, list, 4, seed=0)
    first, second = a.batch(3), b.batch(3)
    assert all(np.array_equal(x[0], y[0]) for x, y in zip(first, second))
    assert not all(np.array_equal(x[0], y[0]) for x, y in zip(a.batch(3), a.batch(4)))
    with pytest.raises(ValueError, match="no pieces"):
        ObjectiveStream([], objective, list, 4, seed=0)


TINY_MODEL = {"d_model": 16, "d_kv": 4, "d_ff": 32, "num_heads": 2, "num_layers": 2,
              "feed_forward_proj": "relu", "dropout_rate": 0.1}
TINY_BENCH = {"tasks": ["acceptability", "pair", "cloze choice"], "held_out_pages": 0.15,
              "split_seed": 0, "pool_fractions": [0.4, 0.2, 0.4], "train_examples": 4,
              "validation_examples": 4, "test_examples": 4}


def _tiny(variants):
    config = pretraining.config(variants, 0.01)           # 4 pre-training, 2 fine-tuning steps
    config.update(model=TINY_MODEL, benchmark=TINY_BENCH, vocab_pieces=300)
    return config


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory):
    work = tmp_path_factory.mktemp("experiments") / "tableX"
    variants = {"base": pretraining.BASELINE, "tiny set": pretraining.variant(repeats=1000)}
    config = _tiny(variants)
    return config, work, pretraining.run(config, [0, 1], work)


def test_a_tiny_table_runs_end_to_end(tiny_run):
    config, work, out = tiny_run
    assert list(out["average"]) == ["base", "tiny set"]
    for row, values in out["average"].items():
        assert len(values) == 2 and all(0 <= v <= 100 and math.isfinite(v) for v in values)
        assert [r["seed"] for r in out["rows"][row]] == [0, 1]
    curves = out["details"]["pretraining"]["base"]
    assert curves["train_loss"][-1][0] == config["pretrain"]["steps"] == 4
    assert all(math.isfinite(loss) for _, loss in curves["train_loss"])
    data = out["details"]["data"]
    budget = config["pretrain"]["steps"] * config["pretrain"]["batch_size"] * 63
    assert data["tiny set"]["pieces"] == math.ceil(budget / 1000 / 63)
    assert data["tiny set"]["repeats"] > data["base"]["repeats"]


def test_a_second_run_reads_every_result_from_the_cache(tiny_run):
    config, work, out = tiny_run
    cache = pretraining.cache_dir(work)
    stamps = {p: p.stat().st_mtime_ns for p in cache.rglob("*") if p.is_file()}
    again = pretraining.run(config, [0, 1], work)
    assert again == out
    assert {p: p.stat().st_mtime_ns for p in cache.rglob("*") if p.is_file()} == stamps


def test_the_unfiltered_corpus_shares_no_line_with_held_out_pages(tiny_run, tmp_path):
    config, work, _ = tiny_run
    setup = pretraining.Setup(config, pretraining.cache_dir(work))
    pages = setup.pages("unfiltered")
    assert len(pages) > len(setup.bench.pretraining_pages)       # the rules removed pages
    assert not any(line.strip() in setup.held_out_lines for p in pages for line in p.split("\n"))
    assert json.dumps(setup.pages("cleaned")) == json.dumps(setup.bench.pretraining_pages)


def test_a_damaged_cache_entry_is_run_again_and_replaced(tmp_path, capsys):
    """A settings.json cut short, or one holding other settings, never blocks a run: the entry
    counts as absent (one line names the file) and the next store replaces it whole."""
    cache, settings = RunCache(tmp_path), {"steps": 4, "seed": 0}
    assert cache.find("pretrained", settings) is None
    with cache.store("pretrained", settings, {"curves": [1, 2]}) as folder:
        (folder / "weights.bin").write_bytes(b"w")
    record = cache.find("pretrained", settings, needs=("weights.bin",))
    assert record == {"settings": settings, "curves": [1, 2]}
    assert capsys.readouterr().err == ""
    path = cache.folder("pretrained", settings) / "settings.json"
    text = path.read_text()
    path.write_text(text[: len(text) // 2])                       # a write cut short
    assert cache.find("pretrained", settings) is None
    assert str(path) in capsys.readouterr().err
    path.write_text(json.dumps({"settings": {"steps": 5}}))       # another run's settings
    assert cache.find("pretrained", settings) is None
    assert "other settings" in capsys.readouterr().err
    path.write_text(text)
    assert cache.find("pretrained", settings, needs=("model.safetensors",)) is None
    assert "lacks model.safetensors" in capsys.readouterr().err
    with cache.store("pretrained", settings, {"curves": [3]}) as folder:
        pass
    assert cache.find("pretrained", settings)["curves"] == [3]
    with pytest.raises(RuntimeError):
        with cache.store("pretrained", settings, {"curves": [4]}) as folder:
            raise RuntimeError("the run failed")
    assert cache.find("pretrained", settings)["curves"] == [3]    # the old entry stands


def test_a_cut_short_pre_training_record_is_trained_again(tiny_run, capsys):
    """A pre-trained entry whose settings.json was cut short is pre-trained again, not read."""
    config, work, out = tiny_run
    setup = pretraining.Setup(config, pretraining.cache_dir(work))
    v = pretraining.BASELINE
    folder = pretraining.pretrain_row("base", v, config, setup)
    record = folder / "settings.json"
    whole = record.read_text()
    record.write_text(whole[:10])
    assert pretraining.pretrain_row("base", v, config, setup) == folder
    assert str(record) in capsys.readouterr().err
    assert json.loads(record.read_text())["settings"] == json.loads(whole)["settings"]
