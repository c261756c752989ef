"""Table 1's miniature (minit5.experiments.table1): its pre-trained model is made once per
settings and read back from the run cache after that, and a damaged cache entry is made again."""
import json

import numpy as np

from minit5.experiments import table1
from minit5.experiments.run_cache import RunCache
from tests.experiments.test_pretraining import TINY_BENCH, TINY_MODEL


def _tiny_config():
    config = table1.config(0.004)                  # 4 pre-training steps
    config.update(model=TINY_MODEL, benchmark=TINY_BENCH, vocab_pieces=300)
    return config


def test_table1_pretrains_once_and_reads_the_cache_after(tmp_path, capsys):
    config = _tiny_config()
    _, tokenizer, model, curves = table1.prepare(config, tmp_path)
    assert curves["train_loss"][-1][0] == config["pretrain"]["steps"] == 4
    folder = RunCache(tmp_path).folder("pretrained", table1.pretraining_settings(config))
    stamps = {p.name: p.stat().st_mtime_ns for p in folder.iterdir()}
    assert {"config.json", "model.safetensors", "spiece.model", "settings.json"} <= set(stamps)
    _, tokenizer_again, again, curves_again = table1.prepare(config, tmp_path)
    assert {p.name: p.stat().st_mtime_ns for p in folder.iterdir()} == stamps  # nothing written
    assert curves_again == json.loads(json.dumps(curves))
    assert tokenizer_again.vocab_size == tokenizer.vocab_size
    state, loaded = model.state_dict(), again.state_dict()
    assert all(np.array_equal(state[name], loaded[name]) for name in state)
    # the tasks and their sizes are not part of what pre-training depends on
    fewer = {**config, "benchmark": {**config["benchmark"], "test_examples": 3}}
    assert table1.pretraining_settings(fewer) == table1.pretraining_settings(config)
    assert capsys.readouterr().err == ""

    record = folder / "settings.json"
    record.write_text(record.read_text()[:20])      # a write cut short
    table1.prepare(config, tmp_path)
    assert str(record) in capsys.readouterr().err
    stored = json.loads(record.read_text())
    assert stored["settings"] == json.loads(json.dumps(table1.pretraining_settings(config)))


def test_table1_runs_both_arms_from_the_cached_model(tmp_path):
    """The run the demo makes (`table1.run`), at a tiny shape: both arms, a score per seed."""
    config = _tiny_config()
    out = table1.run(config, [0], tmp_path)
    assert tuple(out["average"]) == table1.ROWS
    assert all(len(v) == 1 and 0 <= v[0] <= 100 for v in out["average"].values())
    assert out["details"]["pretraining"]["train_loss"][-1][0] == 4
