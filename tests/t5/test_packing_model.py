"""Packed rows (several examples in one row, kept apart by segment ids only) give each example
exactly the logits it gets alone: inside a segment the row's plain relative bias is right."""
import numpy as np

from minit5 import T5Config, T5ForConditionalGeneration


def test_packed_logits_equal_unpacked():
    cfg = T5Config(vocab_size=60, d_model=16, d_kv=4, d_ff=32, num_heads=2, num_layers=2,
                   relative_attention_num_buckets=8, relative_attention_max_distance=12,
                   dropout_rate=0.0)
    model = T5ForConditionalGeneration(cfg, seed=5, dtype="float64").eval()
    rng = np.random.default_rng(0)
    examples = [(rng.integers(2, 60, n_in), rng.integers(2, 60, n_out))
                for n_in, n_out in ((7, 3), (15, 5), (4, 2))]
    # one packed row: inputs back to back, then 2 pad tokens; targets likewise
    enc_ids, enc_seg, dec_in, labels, dec_seg = ([] for _ in range(5))
    for s, (inp, tgt) in enumerate(examples, start=1):
        enc_ids += list(inp)
        enc_seg += [s] * len(inp)
        dec_in += [0] + list(tgt[:-1])            # shift right within the segment
        labels += list(tgt)
        dec_seg += [s] * len(tgt)
    enc_ids += [0, 0]
    enc_seg += [0, 0]
    dec_in += [0]
    labels += [-100]
    dec_seg += [0]

    def row(xs):
        return np.array([xs])
    packed = model(input_ids=row(enc_ids), decoder_input_ids=row(dec_in),
                   encoder_segment_ids=row(enc_seg),
                   decoder_segment_ids=row(dec_seg)).logits.numpy()
    start = 0
    for inp, tgt in examples:
        alone = model(input_ids=inp[None], labels=tgt[None]).logits.numpy()[0]
        np.testing.assert_allclose(packed[0, start:start + len(tgt)], alone, rtol=1e-12,
                                   atol=1e-12)
        start += len(tgt)


def test_data_pack_output_gives_unpacked_logits():
    """The same equality through minit5.data.pack, the packer training uses."""
    from minit5.data import collate, pack, span_corruption
    cfg = T5Config(vocab_size=80, d_model=16, d_kv=4, d_ff=32, num_heads=2, num_layers=1,
                   num_decoder_layers=2, relative_attention_num_buckets=8,
                   relative_attention_max_distance=10, dropout_rate=0.0)
    model = T5ForConditionalGeneration(cfg, seed=9, dtype="float64").eval()
    rng = np.random.default_rng(3)
    examples = [span_corruption(rng.integers(2, 60, n), 80, rng) for n in (20, 9, 31, 14, 25)]
    packed = pack(examples, inputs_length=48, targets_length=16)
    assert len(packed) < len(examples), "nothing was packed: the test would prove nothing"
    out = model(**packed.model_kwargs())
    logits = out.logits.numpy()
    k = 0                                   # pack keeps the examples in order
    for row in range(len(packed)):
        seg = packed.decoder_segment_ids[row]
        for s in range(1, seg.max() + 1):
            alone = model(**collate([examples[k]]).model_kwargs()).logits.numpy()[0]
            np.testing.assert_allclose(logits[row, seg == s], alone, rtol=1e-12, atol=1e-12)
            k += 1
    assert k == len(examples)
    # and the loss over the packed batch is the mean over all examples' target tokens
    total = sum(int((collate([e]).labels != -100).sum()) for e in examples)
    assert int((packed.labels != -100).sum()) == total
