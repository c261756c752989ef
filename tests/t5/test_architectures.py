"""§3.2's architectures (Table 2): the prefix-LM mask, the decoder-only models, the shared
encoder-decoder, the half-depth one, and the batches each reads."""
import numpy as np
import pytest

from minit5 import functional as F
from minit5.data.batching import collate
from minit5.data.model_batches import collate_examples
from minit5.labels import IGNORE_INDEX
from minit5.optim import Adafactor
from minit5.t5 import T5Config, T5ForConditionalGeneration
from minit5.t5.architectures import (
    ARCHITECTURES,
    T5SharedEncoderDecoder,
    _named_parameters_with_repeats,
    build_architecture,
    is_decoder_only,
)
from minit5.t5.attention import T5Attention, padding_mask, prefix_lm_mask, segment_mask


def tiny(**overrides):
    values = dict(vocab_size=40, d_model=16, d_kv=4, d_ff=24, num_heads=2, num_layers=2,
                  relative_attention_num_buckets=8, relative_attention_max_distance=12,
                  dropout_rate=0.0)
    values.update(overrides)
    return T5Config(**values)


EXAMPLES = [(np.array([5, 6, 7, 1]), np.array([8, 9, 1])),
            (np.array([4, 1]), np.array([3, 12, 13, 1]))]


# ---- the mask --------------------------------------------------------------------------------
def test_prefix_lm_mask_is_causal_with_a_fully_visible_prefix():
    keep = prefix_lm_mask(np.array([[1, 1, 1, 0, 0]]))
    assert keep.shape == (1, 1, 5, 5) and keep.dtype == bool
    assert keep[0, 0].astype(int).tolist() == [[1, 1, 1, 0, 0],
                                                [1, 1, 1, 0, 0],
                                                [1, 1, 1, 0, 0],
                                                [1, 1, 1, 1, 0],
                                                [1, 1, 1, 1, 1]]
    no_prefix = prefix_lm_mask(np.zeros((1, 4), dtype=np.int64))[0, 0]
    np.testing.assert_array_equal(no_prefix, np.tril(np.ones((4, 4), bool)))


def test_prefix_lm_mask_with_padding_and_segments():
    # two packed examples: [a b | C] and [d | E F], then one pad; prefixes 2 and 1 long
    prefix = np.array([[1, 1, 0, 1, 0, 0, 0]])
    seg = np.array([[1, 1, 1, 2, 2, 2, 0]])
    keep = (padding_mask((seg > 0).astype(int), 7, np) & prefix_lm_mask(prefix)
            & segment_mask(seg, seg))[0, 0]
    assert keep.astype(int).tolist() == [[1, 1, 0, 0, 0, 0, 0],
                                         [1, 1, 0, 0, 0, 0, 0],
                                         [1, 1, 1, 0, 0, 0, 0],
                                         [0, 0, 0, 1, 0, 0, 0],
                                         [0, 0, 0, 1, 1, 0, 0],
                                         [0, 0, 0, 1, 1, 1, 0],
                                         [0, 0, 0, 0, 0, 0, 0]]


# ---- decoder-only models ----------------------------------------------------------------------
def logits_of(model, ids, prefix=None):
    kwargs = {} if prefix is None else {"prefix_mask": prefix}
    return model(input_ids=ids, **kwargs).logits.numpy()


def test_language_model_is_causal():
    model = build_architecture("language model", tiny(), dtype="float64").eval()
    ids = np.array([[0, 5, 6, 7, 8, 9, 10]])
    changed = ids.copy()
    changed[0, 4:] = [20, 21, 22]
    a, b = logits_of(model, ids), logits_of(model, changed)
    np.testing.assert_array_equal(a[0, :4], b[0, :4])          # positions before the change
    assert np.abs(a[0, 4:] - b[0, 4:]).max() > 1e-6             # the changed ones do change


def test_prefix_lm_prefix_sees_later_prefix_tokens_but_never_the_targets():
    model = build_architecture("prefix LM", tiny(), dtype="float64").eval()
    ids = np.array([[0, 5, 6, 7, 8, 9, 10]])
    prefix = np.array([[1, 1, 1, 1, 0, 0, 0]])
    base = logits_of(model, ids, prefix)
    later_prefix = ids.copy()
    later_prefix[0, 3] = 30
    moved = logits_of(model, later_prefix, prefix)
    assert np.abs(moved[0, 0] - base[0, 0]).max() > 1e-6        # position 0 sees position 3
    target = ids.copy()
    target[0, 5] = 30
    moved = logits_of(model, target, prefix)
    np.testing.assert_array_equal(moved[0, :5], base[0, :5])    # nothing sees a later target
    # the same ids with no prefix are a plain causal model: position 0 no longer sees 3
    lm_like = logits_of(model, later_prefix, np.zeros_like(prefix))
    np.testing.assert_array_equal(lm_like[0, 0], logits_of(model, ids, np.zeros_like(prefix))[0, 0])


def test_buckets_bidirectional_only_where_a_query_sees_the_future(monkeypatch):
    seen = []
    original = T5Attention.compute_bias

    def spy(self, *args, bidirectional=None, **kwargs):
        seen.append(bidirectional)
        return original(self, *args, bidirectional=bidirectional, **kwargs)

    monkeypatch.setattr(T5Attention, "compute_bias", spy)
    for name, expected in (("language model", [False]), ("prefix LM", [True]),
                           ("encoder-decoder", [True, False]),
                           ("shared encoder-decoder", [True, False])):
        seen.clear()
        model = build_architecture(name, tiny())
        model(**collate_examples(model, EXAMPLES).model_kwargs())
        assert seen == expected, name


def test_loss_counts_only_the_targets_and_logits_line_up_with_labels():
    for name in ARCHITECTURES:
        model = build_architecture(name, tiny(), dtype="float64").eval()
        batch = collate_examples(model, EXAMPLES)
        out = model(**batch.model_kwargs())
        logp = F.log_softmax(out.logits).numpy()                     # (B, L, V)
        assert logp.shape[:2] == batch.labels.shape
        scored = batch.labels != IGNORE_INDEX
        picked = np.take_along_axis(logp, np.where(scored, batch.labels, 0)[..., None], -1)[..., 0]
        np.testing.assert_allclose(out.loss.item(), -picked[scored].mean(), rtol=1e-12)
        # the targets, in order, are exactly what is scored: the inputs never are
        for row, (_, targets) in enumerate(EXAMPLES):
            assert batch.labels[row][scored[row]].tolist() == targets.tolist()


def test_decoder_only_batch_is_inputs_then_targets_shifted():
    model = build_architecture("prefix LM", tiny())
    batch = collate_examples(model, EXAMPLES)
    assert batch.target_ids[0].tolist() == [5, 6, 7, 1, 8, 9, 1]
    assert batch.input_ids[0].tolist() == [0, 5, 6, 7, 1, 8, 9]
    assert batch.prefix_mask[0].tolist() == [1, 1, 1, 1, 1, 0, 0]
    assert batch.segment_ids[1].tolist() == [1, 1, 1, 1, 1, 1, 0]
    assert set(batch.model_kwargs()) == {"input_ids", "labels", "prefix_mask", "segment_ids"}
    assert batch.num_tokens == 13


def test_empty_inputs_make_every_position_a_target():
    model = build_architecture("language model", tiny())
    batch = collate_examples(model, [(np.array([], dtype=np.int64), np.array([5, 6, 1])),
                                     (np.array([7]), np.array([8, 1]))])
    assert batch.labels[0].tolist() == [5, 6, 1]
    assert batch.labels[1].tolist() == [-100, 8, 1]
    assert np.isfinite(model(**batch.model_kwargs()).loss.item())


def test_padding_does_not_change_a_row():
    model = build_architecture("prefix LM", tiny(), dtype="float64").eval()
    alone = collate_examples(model, EXAMPLES[:1])
    padded = collate_examples(model, [EXAMPLES[0], (np.arange(3, 9), np.arange(9, 14))])
    n = alone.input_ids.shape[1]
    np.testing.assert_allclose(model(**padded.model_kwargs()).logits.numpy()[0, :n],
                               model(**alone.model_kwargs()).logits.numpy()[0], rtol=1e-12)


def test_encoder_decoders_take_the_padded_batch_of_collate():
    for name in ("encoder-decoder", "shared encoder-decoder", "half-depth encoder-decoder"):
        model = build_architecture(name, tiny())
        assert not is_decoder_only(model)
        got, want = collate_examples(model, EXAMPLES), collate(EXAMPLES)
        for key, value in want.model_kwargs().items():
            np.testing.assert_array_equal(got.model_kwargs()[key], value)
    assert is_decoder_only(build_architecture("language model", tiny()))


def test_names_are_hf_like_and_the_head_follows_the_config():
    names = dict(build_architecture("language model", tiny()).named_parameters())
    assert "shared.weight" in names and "lm_head.weight" not in names
    assert "decoder.block.1.layer.0.SelfAttention.q.weight" in names
    assert "decoder.block.1.layer.1.DenseReluDense.wi.weight" in names
    assert "decoder.block.0.layer.0.SelfAttention.relative_attention_bias.weight" in names
    assert "decoder.final_layer_norm.weight" in names
    assert not any("EncDecAttention" in n or n.startswith("encoder.") for n in names)
    untied = build_architecture("prefix LM", tiny(tie_word_embeddings=False,
                                                  feed_forward_proj="gated-gelu"))
    names = dict(untied.named_parameters())
    assert "lm_head.weight" in names
    assert "decoder.block.0.layer.1.DenseReluDense.wi_0.weight" in names
    for layers, half in ((4, 2), (5, 2), (1, 1)):
        model = build_architecture("half-depth encoder-decoder", tiny(num_layers=layers))
        assert len(model.encoder.block) == len(model.decoder.block) == half


# ---- gradients ----------------------------------------------------------------------------------
def finite_difference_check(model, batch, names, eps=1e-6, per_array=3, seed=0):
    """Analytic gradient of the loss vs central differences on a few elements of each array."""
    params = dict(model.named_parameters())
    model.zero_grad()
    model(**batch.model_kwargs()).loss.backward()
    rng = np.random.default_rng(seed)
    for name in names:
        p = params[name]
        for flat in rng.choice(p.data.size, size=per_array, replace=False):
            index = np.unravel_index(flat, p.data.shape)
            keep = p.data[index]
            p.data[index] = keep + eps
            up = model(**batch.model_kwargs()).loss.item()
            p.data[index] = keep - eps
            down = model(**batch.model_kwargs()).loss.item()
            p.data[index] = keep
            numeric = (up - down) / (2 * eps)
            assert abs(p.grad[index] - numeric) <= 1e-6 * max(1e-2, abs(numeric)), (name, index)


@pytest.mark.parametrize("name", ["language model", "prefix LM"])
def test_decoder_only_gradient_matches_finite_differences(name):
    model = build_architecture(name, tiny(num_layers=1), dtype="float64").eval()
    batch = collate_examples(model, EXAMPLES)
    finite_difference_check(model, batch, [
        "shared.weight", "decoder.block.0.layer.0.SelfAttention.q.weight",
        "decoder.block.0.layer.0.SelfAttention.relative_attention_bias.weight",
        "decoder.block.0.layer.1.DenseReluDense.wo.weight", "decoder.final_layer_norm.weight"])


def test_shared_model_gradient_matches_finite_differences():
    model = build_architecture("shared encoder-decoder", tiny(num_layers=1), dtype="float64").eval()
    batch = collate_examples(model, EXAMPLES)
    finite_difference_check(model, batch, [
        "encoder.block.0.layer.0.SelfAttention.k.weight",
        "encoder.block.0.layer.0.SelfAttention.relative_attention_bias.weight",
        "encoder.block.0.layer.1.DenseReluDense.wi.weight", "encoder.final_layer_norm.weight",
        "decoder.block.0.layer.1.EncDecAttention.v.weight"])


# ---- the shared encoder-decoder ------------------------------------------------------------------
def unshared_copy(shared):
    """A plain T5ForConditionalGeneration holding the shared model's arrays in both stacks."""
    plain = T5ForConditionalGeneration(shared.config, seed=7, dtype=shared.dtype).eval()
    every = dict(_named_parameters_with_repeats(shared))
    plain.load_state_dict({n: every[n].numpy() for n in plain.state_dict()})
    return plain


def test_shared_model_shares_each_array_once():
    shared = build_architecture("shared encoder-decoder", tiny())
    plain = build_architecture("encoder-decoder", tiny())
    names = dict(shared.named_parameters())
    ids = [id(p) for p in shared.parameters()]
    assert len(ids) == len(set(ids))
    size = lambda model: sum(p.data.size for p in model.parameters())     # noqa: E731
    assert size(shared) < size(plain)
    assert not any(n.startswith("decoder.") and "EncDecAttention" not in n
                   and ".layer.1.layer_norm" not in n for n in names)
    enc, dec = shared.encoder.block[1], shared.decoder.block[1]
    assert dec.layer[0].SelfAttention.q.weight is enc.layer[0].SelfAttention.q.weight
    assert dec.layer[2].DenseReluDense.wo.weight is enc.layer[1].DenseReluDense.wo.weight
    assert dec.layer[1].EncDecAttention.q.weight is not enc.layer[0].SelfAttention.q.weight
    assert shared.decoder.final_layer_norm is shared.encoder.final_layer_norm
    with pytest.raises(ValueError, match="num_decoder_layers"):
        build_architecture("shared encoder-decoder", tiny(num_decoder_layers=3))


def test_shared_gradient_is_the_sum_of_both_stacks():
    shared = build_architecture("shared encoder-decoder", tiny(), dtype="float64").eval()
    plain = unshared_copy(shared)
    batch = collate(EXAMPLES)
    out_shared = shared(**batch.model_kwargs())
    out_plain = plain(**batch.model_kwargs())
    np.testing.assert_allclose(out_shared.logits.numpy(), out_plain.logits.numpy(), rtol=1e-12)
    out_shared.loss.backward()
    out_plain.loss.backward()
    plain_params = dict(plain.named_parameters())
    shared_count = 0
    for name, p in shared.named_parameters():
        want = plain_params[name].grad
        # the encoder's FFN (layer 1) is the decoder's layer 2; the rest keep their names
        decoder_name = name.replace("encoder.", "decoder.", 1).replace(".layer.1.", ".layer.2.")
        if name.startswith("encoder.") and decoder_name in plain_params:
            want = want + plain_params[decoder_name].grad
            shared_count += 1
        np.testing.assert_allclose(p.grad, want, rtol=1e-10, atol=1e-14, err_msg=name)
    # per block: self-attention q, k, v, o + layer norm, FFN wi, wo + layer norm; the table;
    # the final layer norm
    assert shared_count == 2 * 8 + 1 + 1


def test_one_adafactor_step_updates_a_shared_array_once():
    shared = build_architecture("shared encoder-decoder", tiny())
    q = shared.encoder.block[0].layer[0].SelfAttention.q.weight
    before = q.data.copy()
    shared(**collate(EXAMPLES).model_kwargs()).loss.backward()
    alone = type(q)(before.copy())
    alone.grad = q.grad.copy()
    Adafactor([alone], lr=1e-2, relative_step=False).step()      # one update, alone
    optimizer = Adafactor(shared.parameters(), lr=1e-2, relative_step=False)
    optimizer.step()
    np.testing.assert_array_equal(q.data, alone.data)
    assert sum(1 for state in optimizer.state if state) == len(shared.parameters())


def test_shared_model_saves_as_an_ordinary_checkpoint(tmp_path):
    shared = build_architecture("shared encoder-decoder", tiny(), dtype="float64").eval()
    shared.save_pretrained(tmp_path / "ckpt")
    batch = collate(EXAMPLES)
    want = shared(**batch.model_kwargs()).logits.numpy()
    plain = T5ForConditionalGeneration.from_pretrained(tmp_path / "ckpt", dtype="float64")
    np.testing.assert_array_equal(plain(**batch.model_kwargs()).logits.numpy(), want)
    again = T5SharedEncoderDecoder.from_pretrained(tmp_path / "ckpt", dtype="float64")
    assert len(again.parameters()) == len(shared.parameters())
    np.testing.assert_array_equal(again(**batch.model_kwargs()).logits.numpy(), want)
    # an ordinary checkpoint, whose two stacks differ, is refused as a shared model
    build_architecture("encoder-decoder", tiny()).save_pretrained(tmp_path / "plain")
    with pytest.raises(ValueError, match="not a shared encoder-decoder"):
        T5SharedEncoderDecoder.from_pretrained(tmp_path / "plain")


def test_shared_model_generates_like_its_unshared_copy():
    shared = build_architecture("shared encoder-decoder", tiny(), dtype="float64").eval()
    ids = collate(EXAMPLES).input_ids
    np.testing.assert_array_equal(shared.generate(ids, max_new_tokens=5),
                                  unshared_copy(shared).generate(ids, max_new_tokens=5))


# ---- every architecture ------------------------------------------------------------------------
@pytest.mark.parametrize("name", ARCHITECTURES)
def test_state_dict_round_trips(name):
    model = build_architecture(name, tiny(), seed=0).eval()
    other = build_architecture(name, tiny(), seed=1).eval()
    batch = collate_examples(model, EXAMPLES)
    assert set(other.state_dict()) == set(model.state_dict())
    other.load_state_dict(model.state_dict())
    np.testing.assert_array_equal(other(**batch.model_kwargs()).logits.numpy(),
                                  model(**batch.model_kwargs()).logits.numpy())


@pytest.mark.parametrize("name", ARCHITECTURES)
def test_a_few_adafactor_steps_lower_the_loss(name):
    model = build_architecture(name, tiny(dropout_rate=0.1), seed=3)
    batch = collate_examples(model, EXAMPLES)
    optimizer = Adafactor(model.parameters(), lr=1e-2, relative_step=False)
    model.eval()
    first = model(**batch.model_kwargs()).loss.item()
    model.train()
    for _ in range(8):
        optimizer.zero_grad()
        model(**batch.model_kwargs()).loss.backward()
        optimizer.step()
    model.eval()
    assert model(**batch.model_kwargs()).loss.item() < first - 0.1


@pytest.mark.parametrize("name", ["language model", "prefix LM"])
def test_decoder_only_dropout_follows_its_generator_and_mode(name):
    model = build_architecture(name, tiny(dropout_rate=0.3))
    kwargs = collate_examples(model, EXAMPLES).model_kwargs()
    model.set_dropout_rng(np.random.default_rng(0))
    a = model(**kwargs).logits.numpy()
    model.set_dropout_rng(np.random.default_rng(0))
    np.testing.assert_array_equal(model(**kwargs).logits.numpy(), a)
    assert np.abs(model(**kwargs).logits.numpy() - a).max() > 0      # next draw differs
    model.eval()
    np.testing.assert_array_equal(model(**kwargs).logits.numpy(), model(**kwargs).logits.numpy())
    assert build_architecture(name, tiny(), dtype="float64").shared.weight.dtype == np.float64


# ---- bad input ----------------------------------------------------------------------------------
def test_bad_input_errors_name_the_problem():
    lm = build_architecture("language model", tiny())
    prefix_lm = build_architecture("prefix LM", tiny())
    ids = np.array([[0, 5, 6]])
    with pytest.raises(ValueError, match="unknown architecture 'lm'.*'prefix LM'"):
        build_architecture("lm", tiny())
    with pytest.raises(TypeError, match="T5Config"):
        build_architecture("language model", {"d_model": 8})
    with pytest.raises(ValueError, match="prefix LM needs prefix_mask"):
        prefix_lm(input_ids=ids)
    with pytest.raises(ValueError, match="prefix_mask has shape"):
        prefix_lm(input_ids=ids, prefix_mask=np.array([[1, 0]]))
    with pytest.raises(ValueError, match="only 0 and 1"):
        prefix_lm(input_ids=ids, prefix_mask=np.array([[2, 0, 0]]))
    with pytest.raises(ValueError, match="labels shape"):
        lm(input_ids=ids, labels=np.array([[5, 6]]))
    with pytest.raises(ValueError, match="outside"):
        lm(input_ids=np.array([[0, 40]]))
    with pytest.raises(ValueError, match="segment_ids has shape"):
        lm(input_ids=ids, segment_ids=np.array([[1, 1]]))
    with pytest.raises(ValueError, match="empty targets"):
        collate_examples(lm, [(np.array([5]), np.array([], dtype=np.int64))])
    with pytest.raises(ValueError, match="no examples"):
        collate_examples(lm, [])
    with pytest.raises(TypeError, match="build_architecture"):
        collate_examples(object(), EXAMPLES)


@pytest.mark.gpu
@pytest.mark.parametrize("name", ARCHITECTURES)
def test_every_architecture_runs_on_cupy_like_on_numpy(name):
    cpu = build_architecture(name, tiny(), dtype="float64").eval()
    gpu = build_architecture(name, tiny(), dtype="float64", device="gpu").eval()
    assert gpu.device == "gpu"
    kwargs = collate_examples(cpu, EXAMPLES).model_kwargs()
    out_cpu, out_gpu = cpu(**kwargs), gpu(**kwargs)
    np.testing.assert_allclose(out_gpu.logits.numpy(), out_cpu.logits.numpy(), rtol=1e-10,
                               atol=1e-12)
    out_gpu.loss.backward()
    assert all(p.grad is not None for p in gpu.parameters())
