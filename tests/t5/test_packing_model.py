"""Packed rows (several examples in one row, with segment ids and per-segment positions) give
each example exactly the logits it gets alone."""
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
    enc_ids, enc_seg, enc_pos, dec_in, labels, dec_seg, dec_pos = ([] for _ in range(7))
    for s, (inp, tgt) in enumerate(examples, start=1):
        enc_ids += list(inp)
        enc_seg += [s] * len(inp)
        enc_pos += list(range(len(inp)))
        dec_in += [0] + list(tgt[:-1])            # shift right within the segment
        labels += list(tgt)
        dec_seg += [s] * len(tgt)
        dec_pos += list(range(len(tgt)))
    enc_ids += [0, 0]; enc_seg += [0, 0]; enc_pos += [0, 0]
    dec_in += [0]; labels += [-100]; dec_seg += [0]; dec_pos += [0]
    row = lambda xs: np.array([xs])
    packed = model(input_ids=row(enc_ids), decoder_input_ids=row(dec_in),
                   encoder_segment_ids=row(enc_seg), encoder_positions=row(enc_pos),
                   decoder_segment_ids=row(dec_seg), decoder_positions=row(dec_pos)).logits.numpy()
    start = 0
    for inp, tgt in examples:
        alone = model(input_ids=inp[None], labels=tgt[None]).logits.numpy()[0]
        np.testing.assert_allclose(packed[0, start:start + len(tgt)], alone, rtol=1e-12,
                                   atol=1e-12)
        start += len(tgt)
