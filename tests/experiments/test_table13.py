"""Table 13's miniature (minit5.experiments.table13): its rows as the design fixes them, the
bigger models' depth, and a seconds-long run end to end at a tiny shape, ensembles included."""
import dataclasses
import json
import math

import pytest
from safetensors.numpy import load_file

from minit5.experiments import get, pretraining, table13
from minit5.t5.architectures import build_architecture
from minit5.t5.counting import architecture_parameters, layers_for_parameters
from minit5.train.evaluate import evaluate


def test_rows_and_their_budgets():
    config = table13.config(1.0)
    assert get("table13").rows == table13.ROWS
    assert tuple(config["variants"]) + tuple(config["ensembles"]) == table13.ROWS
    phase = {row: v.get("pretrain", config["pretrain"]) for row, v in config["variants"].items()}
    assert (config["pretrain"]["steps"], config["pretrain"]["batch_size"]) == (100, 32)
    assert config["pretrain"]["warmup_steps"] == 100
    budget = {row: (p["steps"], p["batch_size"]) for row, p in phase.items()}
    assert budget == {"baseline": (100, 32), "1x size, 4x training steps": (400, 32),
                      "1x size, 4x batch size": (100, 128),
                      "2x size, 2x training steps": (200, 32),
                      "4x size, 1x training steps": (100, 32)}
    layers = {row: v.get("model", {}).get("num_layers", 2)
              for row, v in config["variants"].items()}
    assert layers["2x size, 2x training steps"] == 5 and layers["4x size, 1x training steps"] == 10
    assert config["finetune"] == pretraining.config({}, 1.0)["finetune"]   # the same for all
    ensembled = config["ensembles"]["4x ensembled"]
    assert [m.get("pretrain_seed", 0) for m in ensembled["members"]] == [0, 1, 2, 3]
    assert ensembled["finetune_seed_offsets"] == [0, 0, 0, 0]
    once = config["ensembles"]["4x ensembled, fine-tune only"]
    assert once["members"] == [pretraining.BASELINE.to_config()] * 4
    assert once["finetune_seed_offsets"] == [0, 3, 6, 9]


def test_four_times_the_steps_is_the_other_miniatures_baseline():
    """The 400-step row's pre-training has the settings (the cache key) of the baseline of
    Tables 2-9, so it is read from their run."""
    ours, theirs = table13.config(1.0), get("table2").config(1.0)
    row = pretraining.variants(ours)["1x size, 4x training steps"]
    assert pretraining.pretrain_settings(row, ours, None) == \
        pretraining.pretrain_settings(pretraining.BASELINE, theirs, None)


def test_the_bigger_models_are_the_depths_nearest_2x_and_4x_the_parameters():
    shape = pretraining.model_config(table13.config(1.0), table13.VOCAB_SIZE)

    def count(layers):
        return architecture_parameters("encoder-decoder", dataclasses.replace(
            shape, num_layers=layers, num_decoder_layers=layers))
    base = count(2)
    for multiple in (2, 4):
        gaps = [abs(count(n) - multiple * base) for n in range(1, 16)]
        assert table13.LAYERS[multiple] == 1 + gaps.index(min(gaps)) == \
            layers_for_parameters(shape, multiple)
    # the counts the module docstring states
    assert (base, count(5), count(10)) == (1_188_096, 2_566_272, 4_863_232)


TINY_MODEL = {"d_model": 16, "d_kv": 4, "d_ff": 32, "num_heads": 2, "num_layers": 2,
              "feed_forward_proj": "relu", "dropout_rate": 0.1}
TINY_BENCH = {"tasks": ["acceptability", "pair", "cloze choice"], "held_out_pages": 0.15,
              "split_seed": 0, "pool_fractions": [0.4, 0.2, 0.4], "train_examples": 4,
              "validation_examples": 4, "test_examples": 4}


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory):
    work = tmp_path_factory.mktemp("experiments") / "table13"
    config = table13.config(0.02)              # 2 pre-training steps (8 for 4x), 4 fine-tuning
    config.update(model=TINY_MODEL, benchmark=TINY_BENCH, vocab_pieces=300)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(table13, "VOCAB_SIZE", 400)
        out = table13.run(config, [1], work)     # seed 1: its members' seeds are 1, 4, 7, 10
    return config, work, out


def test_a_tiny_table13_runs_end_to_end(tiny_run):
    config, work, out = tiny_run
    assert tuple(out["average"]) == table13.ROWS
    for row, values in out["average"].items():
        assert len(values) == 1 and all(0 <= v <= 100 and math.isfinite(v) for v in values)
    compute = out["details"]["compute"]["relative_pretraining_flops"]
    assert compute["1x size, 4x training steps"] == compute["1x size, 4x batch size"] == 4
    assert compute["4x ensembled"] == 4 and compute["4x ensembled, fine-tune only"] == 1
    assert compute["2x size, 2x training steps"] > 4 and compute["4x size, 1x training steps"] > 1


def test_ensemble_members_are_the_designed_runs(tiny_run):
    config, work, out = tiny_run
    for entry in out["rows"]["4x ensembled"]:
        s = entry["seed"]
        assert [(m["pretrain_seed"], m["finetune_seed"]) for m in entry["members"]] == \
            [(k, s) for k in range(4)]
        # member 0 is the baseline row's own fine-tuning run for this seed
        assert entry["members"][0]["score"] == out["rows"]["baseline"][0]["score"]
    for entry in out["rows"]["4x ensembled, fine-tune only"]:
        s = entry["seed"]
        assert [(m["pretrain_seed"], m["finetune_seed"]) for m in entry["members"]] == \
            [(0, s + k) for k in (0, 3, 6, 9)]
    # every fine-tune-only member trained on its ensemble seed's sample, not its own seed's
    stored = [json.loads(p.read_text())["settings"]
              for p in (pretraining.cache_dir(work) / "finetuned").glob("*/settings.json")]
    assert sorted(s["seed"] for s in stored if s.get("sample_seed") == 1) == [4, 7, 10]
    assert all("sample_seed" not in s for s in stored if s["seed"] == 1)


def test_kept_weights_are_the_scored_checkpoints(tiny_run):
    """A member's kept weights give back its recorded test score: the ensemble is built from
    the checkpoints that were scored."""
    config, work, out = tiny_run
    setup = pretraining.Setup(config, pretraining.cache_dir(work))
    results = {}
    for path in (pretraining.cache_dir(work) / "finetuned").glob("*/model.safetensors"):
        results[path] = json.loads((path.parent / "settings.json").read_text())["result"]["score"]
    assert len(results) == 7          # members: 4 pre-trained once each, 3 more fine-tunings
    for path, score in list(results.items())[:3]:
        model = build_architecture("encoder-decoder", pretraining.model_config(
            config, setup.tokenizer.vocab_size))
        model.load_state_dict(load_file(str(path)))
        got = setup.bench.score(evaluate(model, setup.tokenizer, setup.bench.tasks,
                                         setup.bench.test))
        assert got == pytest.approx(score, abs=1e-9)


def test_importing_table13_does_no_work(monkeypatch):
    """The module's rows are plain definitions: importing it counts no parameters and builds
    no settings (the depths are constants that a test above recomputes)."""
    import importlib

    from minit5.t5 import counting

    def refuse(*args, **kwargs):
        raise AssertionError("table13 did work at import time")
    for module, name in ((counting, "layers_for_parameters"),
                         (counting, "architecture_parameters"), (pretraining, "config"),
                         (pretraining, "model_config")):
        monkeypatch.setattr(module, name, refuse)
    try:
        importlib.reload(table13)
    finally:
        monkeypatch.undo()
        importlib.reload(table13)            # bound to the real functions again
