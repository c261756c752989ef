"""The generated world: a lexicon true by construction, and a corpus that shows it."""
import re

import numpy as np
import pytest

from minit5.data.world import (
    CATEGORIES,
    ENDINGS,
    NUMBERS,
    PLURAL_SUFFIXES,
    Noun,
    World,
    plural_verb,
    sentence,
)

WORLD = World.make(300, seed=0)


def test_the_world_is_a_function_of_its_seed():
    again = World.make(300, seed=0)
    assert again.nouns == WORLD.nouns
    np.testing.assert_array_equal(again.weights, WORLD.weights)
    assert World.make(300, seed=1).nouns != WORLD.nouns
    assert WORLD.corpus(5, seed=0) == WORLD.corpus(5, seed=0)
    assert WORLD.corpus(5, seed=0) != WORLD.corpus(5, seed=1)


def test_every_form_names_one_noun():
    forms = [n.stem for n in WORLD.nouns] + [n.plural for n in WORLD.nouns]
    assert len(set(forms)) == len(forms)
    template_words = {w for plural, verbs, adjectives, places in CATEGORIES.values()
                      for w in (plural, *verbs, *adjectives, *places)}
    assert not set(forms) & (template_words | set(CATEGORIES) | set(NUMBERS))


@pytest.mark.parametrize("noun", WORLD.nouns[:40])
def test_properties_are_consistent(noun):
    assert noun.plural == noun.stem + noun.plural_suffix
    assert noun.plural_suffix in PLURAL_SUFFIXES
    assert noun.category in CATEGORIES
    assert noun.habitat in CATEGORIES[noun.category][3]
    assert noun.form(True) == noun.plural and noun.form(False) == noun.stem


def test_classes_categories_and_habitats_are_all_used():
    assert {n.plural_suffix for n in WORLD.nouns} == set(PLURAL_SUFFIXES)
    assert {n.category for n in WORLD.nouns} == set(CATEGORIES)
    assert len({n.habitat for n in WORLD.nouns}) == 4 * len(CATEGORIES)


def test_zipf_weights():
    assert WORLD.weights.sum() == pytest.approx(1.0)
    assert np.all(np.diff(WORLD.weights) < 0)
    assert WORLD.weights[0] / WORLD.weights[9] == pytest.approx(10.0)
    flat = World.make(20, seed=0, zipf=0.0)
    np.testing.assert_allclose(flat.weights, 1 / 20)


def test_spelling_tells_little_about_number():
    """A rule that reads a form's last one or two letters, fitted on half the nouns, guesses
    the number of the other half's forms not much better than chance (0.5)."""
    order = np.random.default_rng(0).permutation(len(WORLD.nouns))
    fit, held = order[:150], order[150:]

    def forms(idx):
        return [(WORLD.nouns[i].stem, 0) for i in idx] + [(WORLD.nouns[i].plural, 1) for i in idx]

    for k in (1, 2):
        votes = {}
        for form, plural in forms(fit):
            votes.setdefault(form[-k:], []).append(plural)
        right = [round(np.mean(votes.get(form[-k:], [0.5])) + 1e-9) == plural
                 for form, plural in forms(held)]
        assert np.mean(right) < 0.75, (k, np.mean(right))


ENDINGS_WORLD = World.make(300, seed=0, morphology="endings")


def test_endings_morphology_swaps_a_final_vowel():
    assert World.make(300, seed=0, morphology="suffix").nouns == WORLD.nouns     # the default
    forms = []
    for noun in ENDINGS_WORLD.nouns:
        base = noun.base
        assert base and noun.stem[:-1] == base and noun.plural[:-1] == base
        assert noun.stem[-1] in ENDINGS and noun.plural_suffix in ENDINGS
        assert noun.stem != noun.plural and base[-1] not in ENDINGS
        assert len(noun.plural_candidates) == 4 and noun.plural in noun.plural_candidates
        assert noun.stem not in noun.plural_candidates
        forms += [noun.stem, noun.plural]
    assert len(set(forms)) == len(forms)
    assert WORLD.nouns[0].plural_candidates == tuple(WORLD.nouns[0].stem + s
                                                     for s in PLURAL_SUFFIXES)


def test_endings_are_alike_in_both_numbers():
    """Each vowel ends about a fifth of the singulars and a fifth of the plurals, so a form's
    last letter (and its shape) says nothing of its number."""
    n = len(ENDINGS_WORLD.nouns)
    for vowel in ENDINGS:
        singular = sum(x.stem[-1] == vowel for x in ENDINGS_WORLD.nouns) / n
        plural = sum(x.plural[-1] == vowel for x in ENDINGS_WORLD.nouns) / n
        assert 0.13 < singular < 0.27 and 0.13 < plural < 0.27, (vowel, singular, plural)


def test_unknown_morphology_is_refused():
    with pytest.raises(ValueError, match="morphology must be one of"):
        World.make(20, seed=0, morphology="umlaut")


def test_corpus_sentences_are_true_of_their_nouns():
    stems = {n.stem: n for n in WORLD.nouns}
    plurals = {n.plural: n for n in WORLD.nouns}
    rng = np.random.default_rng(3)
    for _ in range(300):
        noun = WORLD.draw(rng)
        text = sentence(noun, rng)
        assert text.endswith(".")
        words = re.findall(r"[a-z]+", text.lower())
        named = [w for w in words if w in stems or w in plurals]
        assert named and all((stems.get(w) or plurals.get(w)) == noun for w in named), text
        _, verbs, adjectives, places = CATEGORIES[noun.category]
        others = {v for c, (_, vs, _, _) in CATEGORIES.items() if c != noun.category
                  for v in (*vs, *(plural_verb(x) for x in vs))}
        assert not others & set(words), text
        assert not ({p for c, (_, _, _, ps) in CATEGORIES.items() for p in ps}
                    - {noun.habitat}) & set(words), text
        for w in words:              # a number word or a plural verb goes with the plural
            if w in NUMBERS:
                assert noun.plural in words


def test_draw_from_a_pool_stays_in_it():
    rng = np.random.default_rng(0)
    pool = np.array([3, 50, 200])
    drawn = {WORLD.draw(rng, pool) for _ in range(200)}
    assert drawn <= {WORLD.nouns[i] for i in pool}
    assert len(drawn) == 3


def test_document_length_and_plural_verb():
    doc = WORLD.document(np.random.default_rng(0), sentences=5)
    assert doc.count(".") == 5
    assert plural_verb("sleeps") == "sleep"
    for _, verbs, _, _ in CATEGORIES.values():
        assert all(v.endswith("s") and not v.endswith("ies") for v in verbs)


@pytest.mark.parametrize("bad, match", [(3, "n_nouns"), (10.5, "n_nouns"), ("300", "n_nouns")])
def test_bad_sizes_are_refused(bad, match):
    with pytest.raises(ValueError, match=match):
        World.make(bad, seed=0)


def test_negative_zipf_is_refused():
    with pytest.raises(ValueError, match="zipf"):
        World.make(20, seed=0, zipf=-1.0)


def test_noun_is_frozen():
    with pytest.raises(AttributeError):
        Noun("dax", "animal", "marsh", "i").stem = "wug"
