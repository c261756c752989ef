"""The world benchmark's tasks: about nouns of one pool only, right by construction, scored
item by item."""
import re

import numpy as np
import pytest

from minit5.data.world import CATEGORIES, NUMBERS, PLURAL_SUFFIXES, World, plural_verb
from minit5.data.world_tasks import (
    ACCEPTABLE,
    MAKERS,
    PRIMARY,
    TASK_NAMES,
    UNACCEPTABLE,
    item_scores,
    noun_pools,
    scores,
    task_examples,
)

WORLD = World.make(300, seed=0)
POOLS = noun_pools(WORLD, seed=0)
FORMS = {form: (i, form == n.plural) for i, n in enumerate(WORLD.nouns)
         for form in (n.stem, n.plural)}


def named(text):
    """[(noun index, is plural)] of the noun forms in a text, in order."""
    return [FORMS[w] for w in re.findall(r"[a-z]+", text) if w in FORMS]


def test_pools_split_the_lexicon():
    together = np.concatenate(list(POOLS.values()))
    assert sorted(together) == list(range(len(WORLD.nouns)))
    assert [len(POOLS[p]) for p in ("train", "validation", "test")] == [150, 30, 120]
    for start in range(0, 300, 10):                 # 5, 1, 4 of every block of 10
        block = set(range(start, start + 10))
        assert [len(block & set(POOLS[p])) for p in ("train", "validation", "test")] == [5, 1, 4]
    assert noun_pools(WORLD, seed=1)["test"].tolist() != POOLS["test"].tolist()
    small = noun_pools(World.make(13, seed=0), seed=0)
    assert sum(len(v) for v in small.values()) == 13


@pytest.mark.parametrize("task", list(MAKERS))
@pytest.mark.parametrize("pool", ["train", "test"])
def test_examples_are_about_their_pool_only(task, pool):
    examples = task_examples(task, WORLD, POOLS[pool], 300, np.random.default_rng(1))
    mentioned = {i for x, _ in examples for i, _ in named(x)}
    assert mentioned and mentioned <= set(POOLS[pool].tolist())
    assert task_examples(task, WORLD, POOLS[pool], 300, np.random.default_rng(1)) == examples


def test_agreement_labels_are_right_and_balanced():
    examples = task_examples("agreement", WORLD, POOLS["test"], 2000, np.random.default_rng(2))
    singular_verbs = {v for _, verbs, _, _ in CATEGORIES.values() for v in verbs}
    plural_verbs = {plural_verb(v) for v in singular_verbs}
    for x, label in examples:
        assert x.startswith("agreement sentence: The ")
        (i, plural), = named(x)
        verb = x.rstrip(".").split()[-1]
        assert verb in singular_verbs | plural_verbs
        agrees = (verb in plural_verbs) == plural
        assert label == (ACCEPTABLE if agrees else UNACCEPTABLE), x
        assert verb in CATEGORIES[WORLD.nouns[i].category][1] or \
            verb in {plural_verb(v) for v in CATEGORIES[WORLD.nouns[i].category][1]}
    labels = [t for _, t in examples]
    assert 0.45 < labels.count(ACCEPTABLE) / len(labels) < 0.55
    plural = [named(x)[0][1] for x, _ in examples]
    assert 0.45 < np.mean(plural) < 0.55


def test_inflection_labels_are_right_balanced_and_not_in_the_spelling():
    examples = task_examples("inflection", WORLD, POOLS["test"], 4000,
                             np.random.default_rng(3))
    stems = {n.stem: n for n in WORLD.nouns}
    wrong = {t: [] for t in PLURAL_SUFFIXES}            # the true suffix -> the ones shown
    for x, label in examples:
        match = re.fullmatch(r"inflection sentence: One ([a-z]+) and ([a-z]+) ([a-z]+)\.", x)
        assert match, x
        noun, number, form = stems[match[1]], match[2], match[3]
        assert number in NUMBERS and form.startswith(noun.stem)
        suffix = form[len(noun.stem):]
        assert suffix in PLURAL_SUFFIXES
        assert label == (ACCEPTABLE if form == noun.plural else UNACCEPTABLE), x
        if label == UNACCEPTABLE:
            assert form not in FORMS                    # never another noun's form
            wrong[noun.plural_suffix].append(suffix)
    share = sum(t == ACCEPTABLE for _, t in examples) / len(examples)
    assert 0.46 < share < 0.54
    for true, shown in wrong.items():                   # the other three suffixes alike
        counts = [shown.count(s) for s in PLURAL_SUFFIXES if s != true]
        assert true not in shown and min(counts) > 0.75 * max(counts), (true, counts)
    # so over a lexicon with balanced classes, each suffix is as common in both labels
    uniform = task_examples("inflection", WORLD, np.arange(len(WORLD.nouns)), 8000,
                            np.random.default_rng(4), uniform=True)
    for suffix in PLURAL_SUFFIXES:
        a, u = (np.mean([x.rstrip(".").endswith(suffix) for x, t in uniform if t == label])
                for label in (ACCEPTABLE, UNACCEPTABLE))
        assert abs(a - u) < 0.06, (suffix, a, u)


def test_number_labels_each_form_by_the_lexicon():
    examples = task_examples("number", WORLD, POOLS["train"], 2000, np.random.default_rng(5))
    for x, label in examples:
        (i, plural), = named(x)
        assert x == f"number: {WORLD.nouns[i].form(plural)}"
        assert label == ("plural" if plural else "singular")
    assert 0.45 < np.mean([t == "plural" for _, t in examples]) < 0.55
    out = scores("number", ["plural", "singular", "plural", "many"],
                 ["plural", "plural", "plural", "singular"])
    assert out["accuracy"] == 50.0
    # "many" reads as the wrong label: predicted (1, 0, 1, 1) for wanted (1, 1, 1, 0)
    assert out["matthews"] == pytest.approx(100 * (2 * 0 - 1 * 1) / np.sqrt(3 * 3 * 1 * 1))


def test_kind_answers_the_category_not_in_the_question():
    for x, target in task_examples("kind", WORLD, POOLS["test"], 200, np.random.default_rng(3)):
        (i, plural), = named(x)
        assert not plural and target == WORLD.nouns[i].category
        assert target not in x


def test_summary_names_each_noun_by_category_and_number():
    examples = task_examples("summary", WORLD, POOLS["test"], 300, np.random.default_rng(4))
    lengths = set()
    for x, target in examples:
        nouns = named(x)
        lengths.add(len(nouns))
        parts = re.split(r", | and ", target)
        assert len(parts) == len(nouns)
        for (i, plural), part in zip(nouns, parts):
            category = WORLD.nouns[i].category
            wanted = CATEGORIES[category][0] if plural else \
                ("an " if category[0] in "aeiou" else "a ") + category
            assert part == wanted, (x, target)
        assert not set(target.split()) & set(x.lower().rstrip(".").split()) - {"a", "an"}
    assert lengths == {2, 3, 4}


def test_plural_questions_and_lists_ask_for_the_lexicon_s_plurals():
    for x, target in task_examples("plural", WORLD, POOLS["test"], 200,
                                   np.random.default_rng(5)):
        (i, plural), = named(x)
        assert not plural and target == WORLD.nouns[i].plural and target not in x.split()
    lengths = set()
    for x, target in task_examples("plurals", WORLD, POOLS["test"], 200,
                                   np.random.default_rng(6)):
        nouns = named(x)
        lengths.add(len(nouns))
        assert all(not plural for _, plural in nouns)
        assert target.split() == [WORLD.nouns[i].plural for i, _ in nouns]
    assert lengths == {2, 3, 4}
    assert set(TASK_NAMES) < set(MAKERS) and set(PRIMARY) == set(MAKERS)


def test_item_scores_and_scores():
    assert item_scores("kind", ["animal", " animal ", "tool"], ["animal"] * 3).tolist() == \
        [100.0, 100.0, 0.0]
    s = item_scores("summary", ["animals and a tool", "a plant", ""],
                    ["animals and a tool", "a tool", "a tool"])
    assert s[0] == pytest.approx(100.0) and s[1] == pytest.approx(50.0) and s[2] == 0.0
    assert s.dtype == np.float64
    out = scores("agreement", [ACCEPTABLE, UNACCEPTABLE, "maybe", UNACCEPTABLE],
                 [ACCEPTABLE, UNACCEPTABLE, ACCEPTABLE, ACCEPTABLE])
    assert out["accuracy"] == 50.0
    # "maybe" reads as the wrong label: predicted (1, 0, 0, 0) for wanted (1, 0, 1, 1)
    assert out["matthews"] == pytest.approx(100 * (1 * 1 - 0 * 2) / np.sqrt(1 * 3 * 3 * 1))
    assert item_scores("plurals", ["daxi wugen", "daxi wug"], ["daxi wugen"] * 2).tolist() \
        == [100.0, 50.0]
    judged = scores("inflection", [ACCEPTABLE, "maybe"], [ACCEPTABLE, UNACCEPTABLE])
    assert judged["accuracy"] == 50.0 and "matthews" in judged
    summary = scores("summary", ["a tool", "tools"], ["a tool", "a tool"])
    assert summary["exact_match"] == 50.0 and set(summary) == {PRIMARY["summary"],
                                                               "exact_match"}


def test_bad_calls_say_what_to_do():
    with pytest.raises(KeyError, match="agreement"):
        task_examples("parity", WORLD, POOLS["test"], 3, np.random.default_rng(0))
    with pytest.raises(ValueError, match="2 predictions for 1 targets"):
        item_scores("kind", ["a", "b"], ["a"])
