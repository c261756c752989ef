"""Chapter 13 exercises: the next steps after what the chapter builds for §3.6.

The chapter weights the ranks' mean losses and sums arrays with a ring all-reduce, lists a
model's parameters as it grows by depth, and ensembles the next token for greedy search. These
exercises take the next step: the batch's gradient from the gradients the ranks hold, the depth
that makes a model 2x or 4x as big, and an ensemble's likelihood of a whole target. Grade with
`make grade EX=13.1` or `minit5 grade 13`. Inputs are NumPy arrays, configs and plain numbers;
leave them as they were passed.
"""


def data_parallel_gradients(rank_grads, labels):
    """Exercise 13.1: the whole batch's gradient, from the gradients the ranks computed.

    The global batch's B rows are split over N = len(rank_grads) ranks in contiguous blocks:
    rank r holds rows B * r // N up to (not including) B * (r + 1) // N. Each rank's model
    returns the mean loss over ITS scored tokens (labels other than -100), and the rank runs
    backward on that mean: rank_grads[r] holds one entry per parameter, in the same order on
    every rank: the gradient array, or None for a parameter that rank's backward never
    reached. Return what every rank must hold after the step's all-reduce: for each parameter,
    the gradient of the mean loss over ALL the batch's scored tokens. A rank's None counts as
    a gradient of zeros; a parameter no rank has a gradient for stays None (the optimizer then
    skips it, as one process would). A rank whose rows score no token contributes nothing,
    and when the batch scores no token at all every gradient is zeros.

    Raise ValueError if the batch has fewer rows than there are ranks, or if the ranks'
    lists differ in length or in a parameter's shape.

    Graded: against the library for 1 to 6 ranks, random padding (a rank with no scored
    token included), parameters of several shapes, some None on some or all ranks, float32 and
    float64 (to rounding), that each result keeps its parameter's shape and dtype, the errors,
    and that the inputs are unchanged.

    Args:
        rank_grads: list of N lists, rank_grads[r][i] a float array (every array of one dtype)
            or None.
        labels: int array (B, T), the global batch's labels, -100 where the loss ignores a
            position.

    Returns:
        list with one entry per parameter: an array of its shape and dtype, or None.
    """
    # TODO: Exercise 13.1
    raise NotImplementedError("Exercise 13.1")


def layers_for_parameters(config, multiple):
    """Exercise 13.2: the depth that makes a model `multiple` times as big.

    Table 13's "2x size" and "4x size" models keep the base model's width and add blocks: the
    same number L to the encoder and to the decoder. Return the L >= 1 whose encoder-decoder
    has the parameter count nearest `multiple` times `config`'s (each tied weight once, and
    the §3.5.1 adapters when `config.adapter_dim` is set, as `T5Config.num_parameters` counts
    them); on a tie, the smaller L.

    Graded: against the library on random shapes (every feed_forward_proj kind, tied and
    untied embeddings, with and without adapters, vocabularies small and large) and multiples
    from 0.1 to 8, and that a multiple that is not positive raises ValueError.

    Args:
        config: a minit5 T5Config, the base model (its num_layers and num_decoder_layers
            may differ).
        multiple: how many times the base's parameters, a float > 0.

    Returns:
        int: the number of blocks per stack.
    """
    # TODO: Exercise 13.2
    raise NotImplementedError("Exercise 13.2")


def ensemble_log_likelihoods(member_logits, labels):
    """Exercise 13.3: an ensemble's log-likelihood of each row's target (rank classification).

    The ensemble predicts each next token by the members' log-probabilities averaged and
    renormalised (the softmax of the averaged logits, §3.6). Its log-likelihood of a row's
    target is the sum, over the row's scored positions (labels other than -100), of the
    ensemble's log-probability of the label there.

    Graded: against the library on random logits of 1 to 5 members (to 1e-9), and that the
    inputs are unchanged.

    Args:
        member_logits: float array (M, B, T, V), member m's logits for every position.
        labels: int array (B, T), the target ids, -100 where nothing is scored.

    Returns:
        float64 array (B,): each row's log p_ens(target).
    """
    # TODO: Exercise 13.3
    raise NotImplementedError("Exercise 13.3")
