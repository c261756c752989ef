"""Chapter 13 exercises: the next steps after what the chapter builds for §3.6.

The chapter sums the ranks' summed losses with an all-reduce, lists a model's parameters as it
grows by depth, and ensembles the next token for greedy search. These exercises take the next
step: the weights that make the ranks' mean losses add up to the batch's mean, the depth that
makes a model 2x or 4x as big, and an ensemble's likelihood of a whole target. Grade with
`make grade EX=13.1` or `minit5 grade 13`. Inputs are NumPy arrays, configs and plain numbers;
leave them as they were passed.
"""


def token_shares(labels, size):
    """Exercise 13.1: the weight of each rank's mean loss in a data-parallel step.

    The global batch's rows are split over `size` ranks in contiguous blocks: rank r holds rows
    B * r // size up to (not including) B * (r + 1) // size. Each rank's model returns the
    mean loss over ITS scored tokens (labels other than -100). Return the weight w_r by which
    each rank must scale its mean so that the sum over ranks of the scaled means (and of
    their gradients) is the mean over all the batch's scored tokens, whatever the padding.
    When the batch scores no token at all, every weight is 0.

    Graded: against the library on random padded labels for 1 to 8 ranks (to 1e-12), that a
    batch with fewer rows than ranks raises ValueError, and that `labels` is unchanged.

    Args:
        labels: int array (B, T), -100 where the loss ignores a position.
        size: the number of ranks N, an int >= 1.

    Returns:
        float64 array (size,): the weights, in rank order.
    """
    # TODO: Exercise 13.1
    raise NotImplementedError("Exercise 13.1")


def layers_for_parameters(config, multiple):
    """Exercise 13.2: the depth that makes a model `multiple` times as big.

    Table 13's "2x size" and "4x size" models keep the base model's width and add blocks: the
    same number L to the encoder and to the decoder. Return the L >= 1 whose encoder-decoder
    has the parameter count nearest `multiple` times `config`'s (each tied weight once, as
    `T5Config.num_parameters` counts them); on a tie, the smaller L.

    Graded: against the library on random shapes (relu and gated-gelu, tied and untied
    embeddings, vocabularies small and large) and multiples from 0.1 to 8, and that a multiple
    that is not positive raises ValueError.

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
