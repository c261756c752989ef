"""Table 10 in miniature (§3.5.1): the rows differ only in the fine-tuning method, share one
pre-trained model, and each trains what its method says (a seconds-long run at a tiny shape)."""
import numpy as np
import pytest

from minit5.experiments import get, pretraining, table10
from minit5.nn import trainable_parameters

TINY_MODEL = {"d_model": 16, "d_kv": 4, "d_ff": 32, "num_heads": 2, "num_layers": 2,
              "feed_forward_proj": "relu", "dropout_rate": 0.1}
TINY_BENCH = {"tasks": ["acceptability", "pair", "cloze choice"], "held_out_pages": 0.15,
              "split_seed": 0, "pool_fractions": [0.4, 0.2, 0.4], "train_examples": 4,
              "validation_examples": 4, "test_examples": 4}
ROWS = ("all parameters", "adapters d=32", "gradual unfreezing")


def test_the_rows_are_the_baseline_with_only_the_fine_tuning_method_changed():
    experiment = get("table10")
    config = experiment.config(1.0)
    rows = pretraining.variants(config)
    assert tuple(rows) == experiment.rows == tuple(experiment.paper)
    assert rows["all parameters"] == pretraining.BASELINE        # the ★ row's runs
    for row, v in rows.items():
        assert v.replace(finetuning=None) == pretraining.BASELINE, row
    assert [rows[f"adapters d={d}"].finetuning["adapter_dim"]
            for d in (32, 128, 512, 2048)] == [32, 128, 512, 2048]
    assert config["pretrain"]["steps"] == 400 and config["finetune"]["steps"] == 200
    assert config["finetune"]["lr"] == 3e-3 and config["finetune"]["eval_every"] == 50


def test_a_bad_method_is_refused_when_the_row_is_defined():
    with pytest.raises(ValueError, match="choose one of"):
        pretraining.variant(finetuning={"method": "prompt tuning"})


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory, request):
    """The tiny table, recording what each fine-tuning run trained, step by step."""
    monkeypatch = pytest.MonkeyPatch()
    request.addfinalizer(monkeypatch.undo)
    seen = {}
    real = pretraining.finetune_and_test

    def spy(model, *args, name, before_step=None, **kwargs):
        record = seen.setdefault(name.split(",")[0], {"steps": {}})
        record["before"] = model.state_dict()
        record["start"] = trainable_parameters(model)

        def hook(step):
            if before_step is not None:
                before_step(step)
            record["steps"][step] = trainable_parameters(model)

        out = real(model, *args, name=name, before_step=hook, **kwargs)
        record["after"] = model.state_dict()          # the best checkpoint's weights
        return out

    monkeypatch.setattr(pretraining, "finetune_and_test", spy)
    config = pretraining.config({row: table10.VARIANTS[row] for row in ROWS}, 0.01)
    config.update(model=TINY_MODEL, benchmark=TINY_BENCH, vocab_pieces=300)
    work = tmp_path_factory.mktemp("experiments") / "table10"
    out = pretraining.run(config, [0], work)
    return config, work, out, seen


def test_the_tiny_table_runs_and_shares_one_pre_trained_model(tiny_run):
    config, work, out, _ = tiny_run
    assert list(out["average"]) == list(ROWS)
    assert all(0 <= v[0] <= 100 for v in out["average"].values())
    folders = list((pretraining.cache_dir(work) / "pretrained").iterdir())
    assert len(folders) == 1                  # the method changes no pre-training setting
    assert len(list((pretraining.cache_dir(work) / "finetuned").iterdir())) == len(ROWS)


def test_the_adapter_row_trains_only_adapters_and_layer_norms(tiny_run):
    record = tiny_run[3]["adapters d=32"]
    names = record["start"]
    assert names == [n for n in record["after"] if ".adapter." in n or "layer_norm" in n]
    assert all(step_names == names for step_names in record["steps"].values())
    before, after = record["before"], record["after"]  # as fine-tuning starts; best checkpoint
    for n in before:
        if n not in names:
            assert np.array_equal(after[n], before[n]), n
    moved = {n for n in names if not np.array_equal(after[n], before[n])}
    assert any(".adapter.wo." in n for n in moved) and any("layer_norm" in n for n in moved)


def test_gradual_unfreezing_changes_the_trainable_set_on_schedule(tiny_run):
    config, _, _, seen = tiny_run
    steps = seen["gradual unfreezing"]["steps"]
    assert sorted(steps) == list(range(1, config["finetune"]["steps"] + 1)) == [1, 2]
    everything = list(seen["gradual unfreezing"]["before"])
    assert steps[2] == everything
    assert set(steps[1]) == {n for n in everything if ".block.1." in n or "final_layer_norm" in n
                             or n == "shared.weight"}


def test_the_all_parameters_row_trains_everything(tiny_run):
    record = tiny_run[3]["all parameters"]
    assert all(names == list(record["before"]) for names in record["steps"].values())
