"""Chapter 15 exercises: the final models, from their configs to their decoding.

The chapter lists the released sizes with their exact parameter counts, compares T5 v1.1 and
Flan-T5 with the original, fine-tunes a v1.1-shaped checkpoint from disk, and quotes the
paper's beam search. These exercises take the next steps: where the parameters of a config
are, the paper's own length penalty, and tying an untied (v1.1-layout) model back where its
logits allow it. Grade with `make grade EX=15.1` or `minit5 grade 15`. Leave the inputs as they were
passed.
"""


def parameter_groups(config):
    """Exercise 15.1: a T5Config's parameters, split by the part of the model that holds them.

    Return a dict with these keys, in this order, each the number of parameters of that part
    (0 where the config has none):

      "embedding"          shared.weight (vocab_size x d_model)
      "lm_head"            the untied output head (only when tie_word_embeddings is False)
      "self-attention"     q, k, v, o of every encoder and every decoder block
      "cross-attention"    q, k, v, o of the decoder blocks' encoder-decoder attention
      "feed-forward"       wi and wo, or wi_0, wi_1 and wo with a gated activation
      "layer norms"        every layer norm's weight, the two final ones included
      "relative position"  the relative attention bias table of block 0 of each stack

    q, k and v map d_model to num_heads * d_kv (which need not equal d_model), o maps it back.
    The values add up to config.num_parameters().

    Graded: against the library on every preset and on random configs (gated and not, tied and
    untied, decoders deeper or shallower than encoders).

    Args:
        config: a minit5 T5Config.

    Returns:
        dict {part: int}.
    """
    # TODO: Exercise 15.1
    raise NotImplementedError("Exercise 15.1")


def gnmt_ranking(sum_log_probs, lengths, alpha=0.6):
    """Exercise 15.2: rank finished beam hypotheses with the paper's (GNMT) length penalty.

    The paper's final models use beam search with alpha = 0.6 and the penalty of Wu et al.
    (2016): a hypothesis Y scores log P(Y) / lp(Y), lp(Y) = ((5 + |Y|) / 6) ** alpha, where
    |Y| = lengths[i] and log P(Y) = sum_log_probs[i]. Return the indices of the hypotheses from
    the best score to the worst; hypotheses with equal scores keep their input order.

    Graded: against the library on random hypotheses and alphas (0 included), on ties, and
    that bad arguments (lengths below 1, arrays of different lengths, a negative alpha) raise
    ValueError.

    Args:
        sum_log_probs: float array (N,), each hypothesis' summed log-probabilities.
        lengths: int array (N,), each hypothesis' length, EOS included (>= 1).
        alpha: the length penalty's exponent, >= 0.

    Returns:
        int64 array (N,): indices, best first.
    """
    # TODO: Exercise 15.2
    raise NotImplementedError("Exercise 15.2")


def tie_word_embeddings(state_dict, config, rtol=1e-6):
    """Exercise 15.3: an untied (v1.1-layout) T5 tied back, when its logits allow it.

    The chapter unties a v1.0 model: with the decoder's output h, the tied model computes
    logits (d_model ** -0.5 h) @ shared.weight^T and the untied one h @ lm_head.weight^T, so
    lm_head.weight = d_model ** -0.5 * shared.weight gives the same logits. Go the other way:
    given an untied model (config.tie_word_embeddings False), return (new_state_dict,
    new_config) of a tied model with the same logits, or raise ValueError when there is none
    (fine-tuning moved the head away from the embedding). Find out which heads can be tied
    back: a config says whether the decoder output is scaled before the head
    (`config.scales_decoder_output`, set by scale_decoder_outputs, None meaning "when tied"),
    and a tied model may scale it or not. Compare with np.allclose(..., rtol=rtol, atol=0), so
    that the float rounding of a head made by untying still counts as equal.

    new_config is config with tie_word_embeddings=True and scale_decoder_outputs None (scaled,
    the v1.0 layout) or False (not scaled), whichever gives the same logits (None if both
    do); new_state_dict holds copies of every array of state_dict except "lm_head.weight".
    Raise ValueError if the config is already tied, KeyError if state_dict lacks
    "shared.weight" or "lm_head.weight". Do not change state_dict or config.

    Graded: the new config and state against the library's, the logits of the tied model
    against the untied one's, for float32 and float64 models with and without scaling on
    either side, heads moved by fine-tuning (refused) and by rounding (accepted), rtol varied,
    the dtypes of the arrays kept, the errors, and the inputs unchanged.

    Args:
        state_dict: dict {name: np.ndarray} of an untied model (as model.state_dict()).
        config: its minit5 T5Config (tie_word_embeddings=False).
        rtol: the relative tolerance of the comparison.

    Returns:
        (dict, T5Config).
    """
    # TODO: Exercise 15.3
    raise NotImplementedError("Exercise 15.3")
