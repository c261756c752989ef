"""The final models' pieces (paper §3.7, T5 v1.1): parameter groups, untying the head, and the
paper's GNMT length penalty."""
import numpy as np
import pytest

from minit5 import T5Config, T5ForConditionalGeneration
from minit5.reference.gnmt_penalty import gnmt_ranking
from minit5.reference.parameter_groups import GROUPS, parameter_groups
from minit5.reference.untie import untie_word_embeddings
from minit5.t5.config import PRESETS


@pytest.mark.parametrize("name", sorted(PRESETS))
def test_groups_add_up_to_the_exact_count(name):
    config = T5Config.preset(name)
    groups = parameter_groups(config)
    assert tuple(groups) == GROUPS
    assert sum(groups.values()) == config.num_parameters()
    assert (groups["lm_head"] == 0) == config.tie_word_embeddings


def test_groups_worked_example_t5_small():
    # 6 + 6 blocks of d_model 512, d_ff 2048, 8 x 64 heads, vocab 32128 (FFN: 12 x 2 x 512 x
    # 2048; attention: 18 layers of 4 x 512 x 512; norms: 12 x 2 + 6 + 2 vectors of 512).
    g = parameter_groups(T5Config.preset("t5-small"))
    assert g["embedding"] == 32128 * 512 and g["lm_head"] == 0
    assert g["feed-forward"] == 12 * 2 * 512 * 2048
    assert g["self-attention"] == 12 * 4 * 512 * 512
    assert g["cross-attention"] == 6 * 4 * 512 * 512
    assert g["layer norms"] == (12 * 2 + 6 + 2) * 512
    assert g["relative position"] == 2 * 32 * 8
    with pytest.raises(TypeError, match="takes a T5Config"):
        parameter_groups({"d_model": 512})


def test_untying_keeps_the_logits_and_leaves_the_inputs_alone():
    config = T5Config(vocab_size=40, d_model=16, d_kv=4, d_ff=24, num_heads=2, num_layers=1,
                      dropout_rate=0.0)
    model = T5ForConditionalGeneration(config, seed=0, dtype="float64")
    state = dict(model.state_dict())
    before = {k: v.copy() for k, v in state.items()}
    new_state, new_config = untie_word_embeddings(state, config)
    assert config.tie_word_embeddings and set(state) == set(before)
    assert all(np.array_equal(state[k], before[k]) for k in before)
    assert not new_config.tie_word_embeddings and not new_config.scales_decoder_output
    untied = T5ForConditionalGeneration(new_config, seed=1, dtype="float64")
    untied.load_state_dict(new_state)
    rng = np.random.default_rng(0)
    ids, labels = rng.integers(2, 40, size=(2, 5)), rng.integers(2, 40, size=(2, 3))
    np.testing.assert_allclose(untied(input_ids=ids, labels=labels).logits.numpy(),
                               model(input_ids=ids, labels=labels).logits.numpy(), rtol=1e-12)


def test_untying_refuses_what_is_not_a_scaled_tied_model():
    config = T5Config(vocab_size=40, d_model=16, d_kv=4, d_ff=24, num_heads=2, num_layers=1)
    state = {"shared.weight": np.zeros((40, 16))}
    with pytest.raises(ValueError, match="already untied"):
        untie_word_embeddings(state, T5Config.preset("t5-v1_1-small"))
    with pytest.raises(KeyError, match="no 'shared.weight'"):
        untie_word_embeddings({}, config)
    with pytest.raises(ValueError, match="already has 'lm_head.weight'"):
        untie_word_embeddings({**state, "lm_head.weight": state["shared.weight"]}, config)


def test_gnmt_ranking_differs_from_the_hf_penalty_on_a_worked_example():
    # -2.0 over 2 tokens vs -3.3 over 5 tokens, alpha 0.6. GNMT: (7/6)^0.6 = 1.097 and
    # (10/6)^0.6 = 1.359, scores -1.823 and -2.428: the short one first. transformers' len^0.6:
    # 1.516 and 2.627, scores -1.320 and -1.256: the long one first.
    assert gnmt_ranking([-2.0, -3.3], [2, 5], 0.6).tolist() == [0, 1]
    hf = np.array([-2.0, -3.3]) / np.array([2, 5]) ** 0.6
    assert np.argsort(-hf).tolist() == [1, 0]
    assert gnmt_ranking([-1.0, -1.0, -0.5], [3, 3, 9], 0.0).tolist() == [2, 0, 1]   # stable
    with pytest.raises(ValueError, match="same length"):
        gnmt_ranking([-1.0, -2.0], [1], 0.6)
    with pytest.raises(ValueError, match=">= 1"):
        gnmt_ranking([-1.0], [0], 0.6)
