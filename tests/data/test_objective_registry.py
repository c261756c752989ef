"""The objective registry (`OBJECTIVES`, `make_objective`): every objective of chapter 10 by
name, called one way, with exactly the pairs of the functions themselves (the recorded
experiment results were made by calling them directly)."""
import pickle

import numpy as np
import pytest

from minit5.data import objectives
from minit5.data.objective_registry import Objective
from minit5.data.objectives import OBJECTIVES, make_objective

V = 1000

# The objectives chapter 10 builds (Tables 2, 4-7, Figure 5), and how each function was called
# before the registry: sentinel and mask-token objectives take the vocabulary size, `lm` takes
# no generator (the adapters the experiments used).
DIRECT = {
    "iid_denoising": lambda t, g, **p: objectives.iid_denoising(t, V, g, **p),
    "span_corruption": lambda t, g, **p: objectives.span_corruption(t, V, g, **p),
    "bert_style": lambda t, g, **p: objectives.bert_style(t, V, g, **p),
    "mass_style": lambda t, g, **p: objectives.mass_style(t, V, g, **p),
    "drop_tokens": lambda t, g, **p: objectives.drop_tokens(t, g, **p),
    "deshuffle": lambda t, g, **p: objectives.deshuffle(t, g, **p),
    "prefix_lm": lambda t, g, **p: objectives.prefix_lm(t, g, **p),
    "lm": lambda t, g, **p: objectives.lm(t, **p),
}
# Parameter settings the book and the tables use, and some more (None: the defaults).
SETTINGS = {
    "iid_denoising": [{}, {"noise_density": 0.10}, {"noise_density": 0.5},
                      {"eos_id": None}],
    "span_corruption": [{}, {"mean_noise_span_length": 2.0}, {"mean_noise_span_length": 10.0},
                        {"noise_density": 0.25, "mean_noise_span_length": 5.0}],
    "bert_style": [{}, {"keep_token_prob": 0.1}, {"random_token_prob": 0.0},
                   {"noise_density": 0.3, "eos_id": None}],
    "mass_style": [{}, {"noise_density": 0.5}],
    "drop_tokens": [{}, {"noise_density": 0.25}],
    "deshuffle": [{}, {"eos_id": None}],
    "prefix_lm": [{}, {"noise_density": 0.25}],
    "lm": [{}, {"eos_id": None}],
}


def test_the_registry_holds_every_objective_of_chapter_10():
    assert set(DIRECT) <= set(OBJECTIVES)        # chapter 10's, and any added later
    for name, objective in OBJECTIVES.items():
        assert isinstance(objective, Objective) and objective.name == name
        assert objective.function is getattr(objectives, name)
        assert objective.description.startswith("§3."), objective.description
        assert make_objective(name, V).name == name


@pytest.mark.parametrize("name", sorted(DIRECT))
def test_pairs_are_the_functions_own_bit_for_bit(name):
    pieces = np.random.default_rng(5)
    for params in SETTINGS[name]:
        objective = make_objective(name, V, **params)
        for seed in range(60):
            piece = pieces.integers(3, V - 100, size=int(pieces.integers(2, 130)))
            ours, theirs = np.random.default_rng(seed), np.random.default_rng(seed)
            x, y = objective(piece, ours)
            x_direct, y_direct = DIRECT[name](piece, theirs, **params)
            assert x.dtype == x_direct.dtype and np.array_equal(x, x_direct), (params, seed)
            assert y.dtype == y_direct.dtype and np.array_equal(y, y_direct), (params, seed)
            # the same draws, too: what the generator gives next is the same
            assert ours.bit_generator.state == theirs.bit_generator.state


def test_each_objective_takes_what_its_function_takes():
    takes = {name: o.arguments for name, o in OBJECTIVES.items()}
    assert takes["span_corruption"] == takes["bert_style"] == ("tokens", "vocab_size", "rng")
    assert takes["drop_tokens"] == takes["prefix_lm"] == ("tokens", "rng")
    assert takes["lm"] == ("tokens",)
    assert OBJECTIVES["span_corruption"].parameters == (
        "noise_density", "mean_noise_span_length", "eos_id", "extra_ids")
    assert dict(OBJECTIVES["prefix_lm"].defaults)["noise_density"] == 0.5
    assert dict(OBJECTIVES["bert_style"].defaults)["random_token_prob"] == 0.1


def test_an_unknown_name_lists_the_choices():
    with pytest.raises(ValueError, match="unknown objective 'bert'") as caught:
        make_objective("bert", V)
    for name in OBJECTIVES:
        assert name in str(caught.value)


def test_an_unknown_parameter_names_the_objectives_parameters():
    with pytest.raises(ValueError, match="'iid_denoising' takes no parameter "
                                         "'mean_noise_span_length'; its parameters are "
                                         "noise_density, eos_id, extra_ids"):
        make_objective("iid_denoising", V, mean_noise_span_length=3.0)
    with pytest.raises(ValueError, match="'lm' takes no parameter 'noise_density'"):
        make_objective("lm", V, noise_density=0.15)


@pytest.mark.parametrize("vocab_size", [0, -5, 2.5, True, None, "1000"])
def test_vocab_size_must_be_a_positive_integer(vocab_size):
    with pytest.raises(ValueError, match="vocab_size must be a positive integer"):
        make_objective("deshuffle", vocab_size)


def test_a_function_that_does_not_fit_the_signature_is_refused():
    def no_rng_first(rng, tokens, eos_id=1):
        return tokens, tokens
    with pytest.raises(TypeError, match="an objective takes \\(tokens"):
        Objective.of(no_rng_first, "a broken objective")


def test_a_new_objective_is_one_record():
    def copy(tokens, rng, eos_id=1):
        tokens = np.asarray(tokens)
        return np.append(tokens, eos_id), np.append(tokens, eos_id)
    record = Objective.of(copy, "copy the text")
    assert (record.name, record.arguments, record.parameters) == ("copy", ("tokens", "rng"),
                                                                  ("eos_id",))
    x, y = record.bind(V, eos_id=7)(np.array([5, 6]), np.random.default_rng(0))
    assert x.tolist() == y.tolist() == [5, 6, 7]


def test_a_bound_objective_pickles_and_says_what_it_is():
    objective = make_objective("span_corruption", V, mean_noise_span_length=2.0)
    assert repr(objective) == "make_objective('span_corruption', 1000, mean_noise_span_length=2.0)"
    again = pickle.loads(pickle.dumps(objective))
    piece = np.arange(3, 80)
    a, b = objective(piece, np.random.default_rng(1)), again(piece, np.random.default_rng(1))
    assert all(np.array_equal(u, v) for u, v in zip(a, b))


@pytest.mark.parametrize("inputs_length", [64, 128])
def test_piece_lengths_fill_the_inputs_and_bound_the_targets(inputs_length):
    """A piece of `tokens_length` tokens gives inputs of at most `inputs_length` ids and
    targets of at most `targets_length`; span corruption fills both exactly (§3.3.4).
    (Not at lengths so short that the noise makes under half a span: `random_spans_helper`
    then counts no span where the mask makes one, as the t5 library's helper does.)"""
    for name in OBJECTIVES:
        for params in SETTINGS.get(name, [{}]):
            if params.get("eos_id", 1) is None:
                continue
            objective = make_objective(name, V, **params)
            tokens_length, targets_length = objective.piece_lengths(inputs_length)
            for seed in range(20):
                piece = np.random.default_rng(seed).integers(3, V - 100, size=tokens_length)
                x, y = objective(piece, np.random.default_rng(seed))
                assert len(x) <= inputs_length and len(y) <= targets_length, (name, params)
                if name == "span_corruption":
                    assert (len(x), len(y)) == (inputs_length, targets_length), params
    spans = make_objective("span_corruption", V, noise_density=0.25, mean_noise_span_length=5.0)
    assert spans.piece_lengths(512) == objectives.random_spans_helper(512, 0.25, 5.0)
    assert make_objective("span_corruption", V).piece_lengths(512) == (568, 114)
    assert make_objective("bert_style", V).piece_lengths(512) == (511, 512)
