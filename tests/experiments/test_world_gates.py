"""The world benchmark's gates: each gate's rule on made-up runs, and the recorded gates file
tied to the design and recomputed from its own per-item scores."""
import copy
import json
import pathlib
import shutil

import numpy as np
import pytest

from minit5.data.world_tasks import TASK_NAMES
from minit5.experiments import world_gates
from minit5.experiments.world_gates import ARMS, DESIGN, SEEDED_ARMS, chosen, gates, jobs

RESULTS_DIR = pathlib.Path(__file__).parents[2] / "experiments" / "results"
RECORDED = {"v1": RESULTS_DIR / "world" / "gates.json",
            "v2": RESULTS_DIR / "world" / "gates_v2.json",
            "v3": RESULTS_DIR / "world" / "gates_v3.json",
            "v4": RESULTS_DIR / "world" / "gates_v4.json"}
N_ITEMS = 400


def fake_runs(levels: dict, train: float = 99.0, seed_spread: float = 0.0,
              validation_bonus: dict | None = None) -> list:
    """Runs whose test items score 100 with probability levels[arm] / 100 (the same items for
    every lr, so the chosen lr does not matter unless `validation_bonus` says so)."""
    runs = []
    for arm, seed, task, lr in jobs(DESIGN):
        rng = np.random.default_rng([ARMS.index(arm), seed, TASK_NAMES.index(task)])
        p = min(1.0, max(0.0, (levels[arm] + seed_spread * (seed - 1)) / 100))
        items = 100.0 * (rng.random(N_ITEMS) < p)
        bonus = (validation_bonus or {}).get((arm, lr), 0.0)
        runs.append({"arm": arm, "seed": seed, "task": task, "lr": lr, "step": 200,
                     "validation": levels[arm] + bonus, "test_items": items.tolist(),
                     "test": {}, "train": train})
    return runs


GOOD = {"scratch": 40.0, "1/8": 50.0, "1/4": 60.0, "1/2": 70.0, "1": 80.0, "tiny corpus": 45.0}


def test_jobs_cover_every_arm_seed_task_and_rate():
    f = DESIGN["finetune"]
    expected = (len(SEEDED_ARMS) * f["seeds"] + len(ARMS) - len(SEEDED_ARMS)) \
        * len(TASK_NAMES) * len(f["lrs"])
    assert len(jobs(DESIGN)) == len(set(jobs(DESIGN))) == expected


def test_chosen_takes_the_best_validation_and_the_smaller_rate_on_ties():
    runs = fake_runs(GOOD, validation_bonus={("1", 0.003): 1.0})
    best = chosen(runs)
    assert best[("1", 0, "kind")]["lr"] == 0.003
    assert best[("scratch", 0, "kind")]["lr"] == 0.001


def test_every_gate_passes_on_a_benchmark_that_sees_pre_training():
    out = gates(fake_runs(GOOD), n_resamples=200)
    assert out["all_pass"], {k: v.get("passes") for k, v in out.items()
                             if isinstance(v, dict)}
    assert out["transfer"]["suite"]["mean"] == pytest.approx(40.0, abs=5)


def test_each_gate_fails_on_its_own_flaw():
    small_gap = dict(GOOD, scratch=77.0)
    out = gates(fake_runs(small_gap), n_resamples=200)
    assert not out["transfer"]["passes"] and not out["all_pass"]
    flat = dict(GOOD, **{"1/2": 85.0})                # 1/2 above 1: no rise at every step
    assert not gates(fake_runs(flat), n_resamples=200)["dose_response"]["passes"]
    assert not gates(fake_runs(dict(GOOD, **{"tiny corpus": 79.0})),
                     n_resamples=200)["data"]["passes"]
    assert not gates(fake_runs(GOOD, train=85.0), n_resamples=200)["learns"]["passes"]
    noisy = gates(fake_runs(GOOD, seed_spread=5.0), n_resamples=200)
    assert not noisy["noise"]["passes"] and noisy["noise"]["std"] > 3


def test_learns_reads_the_end_of_fine_tuning_where_the_design_says_so():
    runs = [dict(r, train=50.0, train_end=99.0) for r in fake_runs(GOOD)]
    at_end = copy.deepcopy(DESIGN)
    at_end["finetune"]["learns_at"] = "end"
    assert not gates(runs, DESIGN, n_resamples=200)["learns"]["passes"]
    out = gates(runs, at_end, n_resamples=200)["learns"]
    assert out["passes"] and {v for row in out["train"].values() for v in row.values()} == {99.0}


def test_describe_reads_each_gate_and_its_figures():
    def text(runs):
        results = {"gates": gates(runs, n_resamples=200), "command": "world_gates",
                   "design": DESIGN,
                   "provenance": {"machine": "m", "date": "d"}, "cpu_seconds": {}}
        return results["gates"], "\n".join(world_gates.describe(results))

    good, lines = text(fake_runs(GOOD))
    for name in world_gates.GATE_NAMES.values():
        assert f"{name}: PASS" in lines
    assert f"{good['transfer']['tasks']['agreement']['gap']:+5.1f}" in lines
    assert f"sd {good['noise']['std']:.2f}" in lines
    _, lines = text(fake_runs(GOOD, train=85.0))
    assert "the fine-tuning learns: FAIL" in lines and "transfer: PASS" in lines
    assert "85.0" in lines


def test_second_design_changes_only_what_it_says():
    v2 = world_gates.DESIGN_V2
    assert world_gates.tasks_of(v2) == ("agreement", "plural", "plurals")
    assert world_gates.tasks_of(DESIGN) == TASK_NAMES
    assert v2["world"]["seed"] != DESIGN["world"]["seed"]
    for key in ("tokenizer", "model", "pretrain", "gates"):
        assert v2[key] == DESIGN[key]
    changed = {k for k in DESIGN["finetune"] if v2["finetune"][k] != DESIGN["finetune"][k]}
    assert changed == {"steps", "lrs", "eval_every"}
    assert len(jobs(v2)) == len(jobs(DESIGN))


def test_third_design_is_the_second_with_uniform_evaluation_items_and_a_new_world(tmp_path):
    from minit5.data.world_tasks import task_examples
    v2, v3 = world_gates.DESIGN_V2, world_gates.DESIGN_V3
    assert v3["uniform_eval"] is True and "uniform_eval" not in v2
    assert v3["world"]["seed"] not in (DESIGN["world"]["seed"], v2["world"]["seed"])
    for key in ("tokenizer", "model", "pretrain", "finetune", "gates", "tasks"):
        assert v3[key] == v2[key]
    small = world_gates.smoke_design(v3)
    setup = world_gates.Setup(tmp_path, small)
    sizes = {"train": "train_examples", "validation": "validation_examples",
             "test": "test_examples"}
    for split, uniform in (("train", False), ("validation", True), ("test", True)):
        seed = [world_gates.EXAMPLE_SEEDS[split], world_gates.TASK_IDS["plural"]]
        wanted = task_examples("plural", setup.world, setup.pools[split],
                               small["finetune"][sizes[split]], np.random.default_rng(seed),
                               uniform=uniform)
        assert setup.examples[split]["plural"] == wanted
    pool = setup.pools["test"]
    commonest = setup.world.nouns[pool[0]].stem
    for uniform, low, high in ((True, 0.5, 2.0), (False, 3.0, 100.0)):
        drawn = task_examples("plural", setup.world, pool, 4000, np.random.default_rng(0),
                              uniform=uniform)
        share = sum(f" {commonest}?" in x for x, _ in drawn) / len(drawn)
        assert low < share * len(pool) < high, (uniform, share * len(pool))


def test_fourth_design_changes_only_what_it_says():
    v3, v4 = world_gates.DESIGN_V3, world_gates.DESIGN_V4
    assert v4["tasks"] == ["number", "plural", "plurals"]
    assert v4["finetune"] == {**v3["finetune"], "learns_at": "end"}
    assert v4["world"] == {**v3["world"], "seed": 3, "corpus_seed": 3, "pool_seed": 3,
                           "morphology": "endings"}
    assert v4["uniform_train"] is True and "uniform_train" not in v3
    for key in ("tokenizer", "model", "pretrain", "gates", "uniform_eval"):
        assert v4[key] == v3[key]
    assert set(v4) == set(v3) | {"uniform_train"}


def test_smoke_design_only_shrinks_sizes():
    before = copy.deepcopy(DESIGN)
    smoke = world_gates.smoke_design()
    assert smoke["model"] == DESIGN["model"] and smoke["gates"] == DESIGN["gates"]
    assert smoke["pretrain"]["steps"] < DESIGN["pretrain"]["steps"]
    assert DESIGN["pretrain"]["checkpoints"]["1"] == DESIGN["pretrain"]["steps"]
    assert DESIGN == before                     # shrinking a copy leaves the design alone


def test_pretraining_stopped_part_way_continues_exactly(tmp_path):
    from minit5.t5.checkpoint import read_weights
    design = world_gates.smoke_design()
    whole, cut = tmp_path / "whole", tmp_path / "cut"
    world_gates.pretrain(world_gates.Setup(whole, design), "full")
    setup = world_gates.Setup(cut, design)
    world_gates.pretrain(setup, "full")
    final = world_gates.checkpoint_dir(cut, "full", 16)
    for path in (final, cut / "pretrain" / "full" / "run.json"):     # a kill before step 16
        shutil.rmtree(path) if path.is_dir() else path.unlink()
    record = world_gates.pretrain(setup, "full")
    assert record["resumed_from"] == 8
    a = read_weights(world_gates.checkpoint_dir(whole, "full", 16))
    b = read_weights(final)
    assert a.keys() == b.keys() and all(np.array_equal(a[k], b[k]) for k in a)
    assert not np.array_equal(a["shared.weight"],
                              read_weights(world_gates.checkpoint_dir(whole, "full", 8))
                              ["shared.weight"])      # the resumed steps did train


@pytest.mark.gpu
def test_gpu_scale_machinery_runs_on_the_device(tmp_path):
    """The `--device gpu` path at the smoke sizes: pre-training and a fine-tuning run on the
    GPU, checkpoints that load on the host, finite scores in range."""
    from minit5.t5.checkpoint import read_weights
    design = {**world_gates.smoke_design(world_gates.DESIGN_V3), "device": "gpu"}
    setup = world_gates.Setup(tmp_path, design)
    record = world_gates.pretrain(setup, "full")
    assert record["resumed_from"] == 0 and record["tokens_per_second"] > 0
    weights = read_weights(world_gates.checkpoint_dir(tmp_path, "full", 16))
    assert all(np.isfinite(w).all() for w in weights.values())
    result = world_gates.finetune(setup, "1", 0, "plural", 1e-3)
    assert len(result["test_items"]) == design["finetune"]["test_examples"]
    assert 0 <= result["train"] <= 100 and 0 <= result["validation"] <= 100


@pytest.mark.parametrize("name", sorted(RECORDED))
def test_recorded_gates_match_the_design_and_their_own_runs(name):
    if not RECORDED[name].exists():
        pytest.skip(f"the world gates of design {name} have not been recorded")
    design = world_gates.DESIGNS[name]
    recorded = json.loads(RECORDED[name].read_text())
    assert recorded["design"] == json.loads(json.dumps(design))
    runs = []
    for run in recorded["runs"]:
        key = f"{run['arm']} seed {run['seed']} {run['task']} lr {run['lr']:g}"
        runs.append({**run, "test_items": recorded["test_items"][key]})
    assert len(runs) == len(jobs(design))
    again = gates(runs, design)
    assert json.loads(json.dumps(again)) == recorded["gates"]


def test_gpu_scale_is_the_cpu_design_with_a_bigger_model_and_100x_the_tokens():
    gpu = world_gates.gpu_design()

    def tokens(d):
        p = d["pretrain"]
        return p["steps"] * p["batch"] * p["piece_tokens"]

    assert tokens(gpu) == 100 * tokens(DESIGN)
    assert gpu["device"] == "gpu" and "device" not in DESIGN
    assert gpu["finetune"] == DESIGN["finetune"] and gpu["gates"] == DESIGN["gates"]
    assert {k: v for k, v in gpu["world"].items() if k != "documents"} == \
        {k: v for k, v in DESIGN["world"].items() if k != "documents"}
    steps = gpu["pretrain"]["steps"]
    assert gpu["pretrain"]["checkpoints"] == {"1/8": steps // 8, "1/4": steps // 4,
                                             "1/2": steps // 2, "1": steps}
    ratio = gpu["pretrain"]["tiny_corpus_documents"] / gpu["world"]["documents"]
    assert ratio == DESIGN["pretrain"]["tiny_corpus_documents"] / DESIGN["world"]["documents"]


def test_longer_probe_run_starts_with_the_gates_run():
    from minit5.experiments.world_probe import longer_design
    d = longer_design(4)
    steps = DESIGN["pretrain"]["steps"]
    assert d["pretrain"]["steps"] == 4 * steps
    assert d["pretrain"]["checkpoints"] == {"1": steps, "2": 2 * steps, "4": 4 * steps}
    same = {k: v for k, v in d["pretrain"].items() if k not in ("steps", "checkpoints")}
    assert same == {k: v for k, v in DESIGN["pretrain"].items()
                    if k not in ("steps", "checkpoints")}


def test_tables_budget_adds_measured_times():
    results = {"design": DESIGN,
               "pretraining": {"full": {"seconds": 300.0}, "tiny corpus": {"seconds": 100.0}},
               "runs": [{"arm": "scratch", "seed": 0, "seconds": 50.0},
                        {"arm": "scratch", "seed": 0, "seconds": 70.0},
                        {"arm": "1", "seed": 0, "seconds": 80.0}]}
    out = world_gates.tables_budget(results, rows=10, seeds=3, parallel=2)
    assert out["pretraining_seconds"] == 200.0
    assert out["finetuning_seconds"] == 3 * 100.0           # mean of 120 and 80, 3 seeds
    assert out["hours"] == pytest.approx(10 * 500.0 / 2 / 3600)
    one_rate = world_gates.tables_budget(results, rows=10, seeds=3, parallel=2, rates=1)
    assert len(DESIGN["finetune"]["lrs"]) == 2
    assert one_rate["finetuning_seconds"] == 3 * 100.0 / 2   # half the runs


@pytest.mark.parametrize("name, design", [("probe", DESIGN), ("probe_longer", None),
                                          ("history/probe_v2", world_gates.DESIGN_V2),
                                          ("probe_v3", world_gates.DESIGN_V3),
                                          ("probe_v4", world_gates.DESIGN_V4)])
def test_recorded_probes_match_their_designs(name, design):
    from minit5.experiments.world_probe import CHANCE, longer_design
    path = RESULTS_DIR / "world" / f"{name}.json"
    if not path.exists():
        pytest.skip(f"{path.name} has not been recorded")
    recorded = json.loads(path.read_text())
    wanted = design if design is not None else longer_design(4)
    assert recorded["design"] == json.loads(json.dumps(wanted))
    for row in recorded["rows"]:
        for prop in CHANCE:
            assert row[prop] == pytest.approx(100 * np.mean(row[prop + "_right"]))
            assert len(row[prop + "_right"]) == len(recorded["test_noun_ranks"])


def test_probe_masks_the_answer_and_scores_every_noun(tmp_path):
    from minit5.data.tokenizer import EOS_ID, Tokenizer, train_tokenizer
    from minit5.data.world import World
    from minit5.experiments.world_probe import CHANCE, masked_example, probe
    from minit5.t5 import T5Config, T5ForConditionalGeneration

    world = World.make(20, seed=0)
    train_tokenizer(world.corpus(300, seed=0), 300, tmp_path / "spiece.model",
                    hard_vocab_limit=False)
    tokenizer = Tokenizer(tmp_path / "spiece.model")
    stem = world.nouns[0].stem
    inputs, targets = masked_example(tokenizer, f"The {stem} is a kind of", "animal", ".")
    sentinel = tokenizer.vocab_size - 1                       # <extra_id_0>
    assert list(inputs).count(sentinel) == 1 and inputs[-1] == EOS_ID
    assert targets[0] == sentinel and targets[-1] == EOS_ID
    assert tokenizer.decode([int(t) for t in targets[1:-2]]).strip() == "animal"
    assert tokenizer.decode([int(t) for t in inputs if t < sentinel - 99]).replace(" ", "") \
        == f"The{stem}isakindof."
    model = T5ForConditionalGeneration(T5Config(vocab_size=tokenizer.vocab_size, d_model=16,
                                                d_kv=4, d_ff=32, num_heads=4, num_layers=1),
                                       seed=0)
    nouns = list(world.nouns[:7])
    out = probe(model, tokenizer, nouns)
    for prop in CHANCE:
        assert len(out[prop + "_right"]) == 7 and set(out[prop + "_right"]) <= {0, 1}
        assert out[prop] == pytest.approx(100 * np.mean(out[prop + "_right"]))
