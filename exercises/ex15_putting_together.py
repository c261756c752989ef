"""Chapter 15 exercises: the final models, from their configs to their decoding.

The chapter lists the released sizes with their exact parameter counts, compares T5 v1.1 and
Flan-T5 with the original, fine-tunes a v1.1-shaped checkpoint from disk, and quotes the
paper's beam search. These exercises take the next steps: where the parameters of a config
are, the paper's own length penalty, and turning a tied (v1.0) model into an untied (v1.1)
one. Grade with `make grade EX=15.1` or `minit5 grade 15`. Leave the inputs as they were
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


def untie_word_embeddings(state_dict, config):
    """Exercise 15.3: a tied (v1.0) T5 as an untied (v1.1-style) one with the same logits.

    state_dict maps parameter names to NumPy arrays (as model.state_dict() gives them; a tied
    model has "shared.weight" and no "lm_head.weight"), and config is its T5Config with
    tie_word_embeddings=True. Return (new_state_dict, new_config): new_config equal to config
    except tie_word_embeddings=False and scale_decoder_outputs=None, and new_state_dict with
    every array of state_dict plus "lm_head.weight", such that a model built from new_config
    and loaded with new_state_dict gives the same logits as the original. Do not change
    state_dict or config.

    Raise ValueError if the config is already untied, or if state_dict already holds
    "lm_head.weight"; raise KeyError if it has no "shared.weight".

    Graded: the new head against the library's, the logits of the untied model against the
    tied one's on random inputs, the new config's fields, the inputs unchanged, and the errors.

    Args:
        state_dict: dict {name: np.ndarray}.
        config: a minit5 T5Config with tie_word_embeddings=True.

    Returns:
        (dict, T5Config).
    """
    # TODO: Exercise 15.3
    raise NotImplementedError("Exercise 15.3")
