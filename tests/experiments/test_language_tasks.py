"""The natural-language tasks and the benchmark split that the paper-table miniatures fine-tune
on."""
import numpy as np
import pytest

from minit5.data.corpus import builtin_corpus
from minit5.data.tasks import Task
from minit5.experiments.benchmark import Benchmark
from minit5.experiments.language_tasks import (
    BLANK,
    OR,
    TASKS,
    acceptability_task,
    cloze_choice_task,
    cloze_task,
    corpus_sentences,
    intruder_task,
    language_tasks,
    pair_task,
    split_pages,
    split_sentences,
    usable,
    word_frequencies,
)
from minit5.experiments.table1 import BENCHMARK

SENTENCES = ["Return the number of items in the queue.",
             "Raise an exception in the coroutine, then wait.",
             "This function reads the whole file into memory."]


@pytest.fixture(scope="module")
def pages():
    return builtin_corpus()


@pytest.fixture(scope="module")
def bench(pages):
    return Benchmark.build(pages, BENCHMARK)


def test_corpus_sentences_are_prose():
    page = ("Return the number of items in the queue. See also x.\n"
            "os.path.join(a, b) joins two paths of a file system.\n"
            "Too short.\nReturn the number of items in the queue.")
    assert corpus_sentences([page]) == ["Return the number of items in the queue."]


def test_split_pages_is_a_fixed_partition(pages):
    kept, held = split_pages(pages, 0.15, 0)
    assert sorted(kept + held) == sorted(pages)
    assert split_pages(pages, 0.15, 0) == (kept, held)
    assert abs(len(held) - 0.15 * len(pages)) <= 1
    with pytest.raises(ValueError, match="fraction"):
        split_pages(pages, 1.5, 0)


def test_split_sentences_pools_are_consecutive_and_disjoint():
    items = [f"s{i}" for i in range(10)]
    pools = split_sentences(items, [0.4, 0.2, 0.4])
    assert pools == [items[:4], items[4:6], items[6:]]
    with pytest.raises(ValueError, match="sum to at most 1"):
        split_sentences(items, [0.8, 0.4])


def test_acceptability_swaps_two_words_but_never_the_first():
    task = acceptability_task()
    rng = np.random.default_rng(0)
    labels = set()
    for sentence in SENTENCES * 20:
        source, target = task.make_from_text(sentence, rng)
        assert source.startswith("cola sentence: ")
        text = source[len("cola sentence: "):]
        labels.add(target)
        if target == "acceptable":
            assert text == sentence
        else:
            assert target == "unacceptable"
            before, after = sentence[:-1].split(), text[:-1].split()
            changed = [i for i, (a, b) in enumerate(zip(before, after)) if a != b]
            assert len(changed) == 2 and 0 not in changed
            assert sorted(before) == sorted(after) and text[-1] == sentence[-1]
    assert labels == {"acceptable", "unacceptable"}
    # a prediction is read with surrounding whitespace removed (the task's postprocessing)
    assert task.score(["acceptable", " unacceptable"], ["acceptable", "unacceptable"]) == \
        {"accuracy": 1.0}
    assert task.score(["unacceptable", "acceptable"], ["acceptable", "acceptable"]) == \
        {"accuracy": 0.5}
    assert task.choices(source) == ["acceptable", "unacceptable"]


def test_pair_offers_the_sentence_and_its_swapped_copy_in_random_order():
    task = pair_task()
    rng = np.random.default_rng(3)
    firsts = set()
    for sentence in SENTENCES * 20:
        source, target = task.make_from_text(sentence, rng)
        options = task.choices(source)
        assert source == "which is English: " + OR.join(options)
        assert target == sentence and sentence in options and len(options) == 2
        other = options[1 - options.index(sentence)]
        assert other != sentence and sorted(other[:-1].split()) == sorted(sentence[:-1].split())
        assert other.split()[0] == sentence.split()[0]
        firsts.add(options.index(sentence))
    assert firsts == {0, 1}


def test_cloze_choice_offers_the_missing_word_and_a_corpus_word():
    words, p = word_frequencies(["alpha beta beta gamma gamma gamma delta"] * 3)
    task = cloze_choice_task(words, p)
    rng = np.random.default_rng(4)
    positions = set()
    for sentence in SENTENCES * 20:
        source, target = task.make_from_text(sentence, rng)
        options = task.choices(source)
        text = source[len("fill in: "):source.rindex(" options: ")]
        assert text.replace(BLANK, target) == sentence and target in options
        other = options[1 - options.index(target)]
        assert other in words and other != target.lower()
        positions.add(options.index(target))
    assert positions == {0, 1}
    with pytest.raises(ValueError, match="at least two words"):
        cloze_choice_task(["one"], np.ones(1))


def test_tasks_are_chosen_by_name():
    pages = ["Return the number of items in the queue."] * 2
    assert list(language_tasks(pages, ["pair", "cloze"])) == ["pair", "cloze"]
    assert set(TASKS) == set(language_tasks(pages, TASKS))
    with pytest.raises(ValueError, match="choose from"):
        language_tasks(pages, ["parsing"])


def test_every_language_task_is_a_task_scored_by_its_primary_metric(pages):
    """Each is a minit5.data.tasks.Task: inputs start with its prefix, a choice task offers
    its target, and the targets score 1 on the primary metric (0 when all are wrong)."""
    for name, task in language_tasks(pages, TASKS).items():
        assert isinstance(task, Task) and task.name == name
        examples = task.examples(SENTENCES * 3, np.random.default_rng(4))
        sources, targets = [s for s, _ in examples], [t for _, t in examples]
        assert all(s.startswith(task.prefix) for s in sources)
        if task.choices is not None:
            assert all(t in task.choices(s) for s, t in examples)
        assert task.score([f" {t} " for t in targets], targets)[task.primary] == 1.0
        assert task.score(["~"] * len(targets), targets)[task.primary] == 0.0


def test_cloze_blanks_one_long_word_that_the_target_restores():
    task = cloze_task()
    rng = np.random.default_rng(1)
    for sentence in SENTENCES * 10:
        source, target = task.make_from_text(sentence, rng)
        text = source[len("fill in: "):]
        assert text.count(BLANK) == 1 and len(target) >= 4 and target.isalpha()
        assert text.replace(BLANK, target) == sentence
        assert not text.startswith(BLANK)


def test_intruder_replaces_one_word_with_a_different_one():
    words, p = word_frequencies(["alpha beta beta gamma gamma gamma delta"] * 3)
    assert words[0] == "gamma" and np.isclose(p.sum(), 1.0)
    task = intruder_task(words, p)
    rng = np.random.default_rng(2)
    for sentence in SENTENCES * 10:
        source, target = task.make_from_text(sentence, rng)
        text = source[len("intruder: "):]
        before, after = sentence.split(), text.split()
        changed = [i for i, (a, b) in enumerate(zip(before, after)) if a != b]
        assert len(before) == len(after) and len(changed) == 1 and changed[0] > 0
        assert target in after[changed[0]] and target in words
    with pytest.raises(ValueError, match="at least two words"):
        intruder_task(["one"], np.ones(1))


def test_a_sentence_without_a_long_word_is_refused_with_a_reason():
    assert not usable("Is it on or off, as a bit?")
    with pytest.raises(ValueError, match="usable"):
        cloze_task().make_from_text("Is it on or off, as a bit?", np.random.default_rng(0))


def test_tasks_are_deterministic_given_the_generator(bench):
    for task in bench.tasks.values():
        a = task.examples(SENTENCES, np.random.default_rng(5))
        assert a == task.examples(SENTENCES, np.random.default_rng(5))


def test_benchmark_never_shows_pretraining_a_task_sentence(bench):
    seen = set(corpus_sentences(bench.pretraining_pages))
    pools = bench.pools
    for name, pool in pools.items():
        assert seen.isdisjoint(pool), name
    assert set(pools["train"]).isdisjoint(pools["validation"])
    assert set(pools["train"]).isdisjoint(pools["test"])
    assert set(pools["validation"]).isdisjoint(pools["test"])


def test_benchmark_sizes_and_seeds(bench):
    for task in bench.tasks:
        assert len(bench.validation[task]) == BENCHMARK["validation_examples"]
        assert len(bench.test[task]) == BENCHMARK["test_examples"]
    first, again, other = bench.training_set(0), bench.training_set(0), bench.training_set(1)
    assert first == again and first != other
    assert all(len(v) == BENCHMARK["train_examples"] for v in first.values())
    labels = [t for _, t in bench.test["acceptability"]]
    assert 0.3 < labels.count("acceptable") / len(labels) < 0.7     # roughly balanced


def test_benchmark_refuses_a_pool_too_small(pages):
    with pytest.raises(ValueError, match="hold out more pages"):
        Benchmark.build(pages, {**BENCHMARK, "test_examples": 10_000})


def test_score_is_the_mean_primary_metric_in_percent(bench):
    results = {"acceptability": {"accuracy": 0.5}, "pair": {"accuracy": 0.8},
               "cloze choice": {"accuracy": 0.5, "other": 9.0}}
    assert bench.score(results) == pytest.approx(60.0)
