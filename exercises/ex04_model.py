"""Chapter 4 exercises: the pieces that make T5 different from the original Transformer.

Paper §2.1 (model), §3.1.2 (training), and the T5 v1.1 changes. Each function works on plain
NumPy arrays (float64 in the graders); shapes use B batch, H heads, L length, d d_model,
dk d_kv, V vocabulary. Grade with `make grade EX=4.2` or `minit5 grade 4`.
"""
import numpy as np


def rms_norm(x, weight, eps=1e-6):
    """Exercise 4.1: T5's layer normalisation (paper §2.1), the forward pass.

    T5 simplifies layer normalisation: each vector is only rescaled by its root mean square,
    with no mean subtraction and no bias. Over the last axis:
        y = weight * x / sqrt(mean(x ** 2) + eps)

    Args:
        x: float array (..., d).
        weight: float array (d,), the learned scale.
        eps: added to the mean square before the square root.

    Returns:
        An array shaped like `x`, of x's dtype (float32 in, float32 out).
    """
    # TODO: Exercise 4.1
    raise NotImplementedError("Exercise 4.1")


def relative_position_bucket(relative_position, bidirectional=True, num_buckets=32,
                             max_distance=128):
    """Exercise 4.2: the bucket of each relative position (paper §2.1, "position embeddings").

    T5 learns one scalar per head for each bucket of `rp = key_pos - query_pos`. Small
    distances get a bucket each; larger ones share logarithmically wider buckets; everything
    at or beyond `max_distance` shares the last one.

    bidirectional (the encoder): half of the buckets are for keys after the query.
        nb = num_buckets // 2; offset = nb where rp > 0, else 0; n = |rp|.
    causal (decoder self-attention, bidirectional=False): only the past counts.
        nb = num_buckets; offset = 0; n = max(-rp, 0)  (so every rp >= 0 falls in bucket 0).
    Then, with max_exact = nb // 2:
        n < max_exact:  bucket = offset + n
        otherwise:      bucket = offset + min(nb - 1,
                            max_exact + int(log(n / max_exact) / log(max_distance / max_exact)
                                            * (nb - max_exact)))
    where int() truncates toward zero. Avoid log(0) in the branch you do not use.

    Args:
        relative_position: int array of any shape (key_pos - query_pos).
        bidirectional: True for the encoder, False for decoder self-attention.
        num_buckets, max_distance: T5's defaults are 32 and 128.

    Returns:
        An int array shaped like `relative_position`, each value in [0, num_buckets).

    Example (defaults): bidirectional rp = -3 -> 3, rp = 3 -> 19; causal rp = -20 -> 17.
    """
    # TODO: Exercise 4.2
    raise NotImplementedError("Exercise 4.2")


def attention_weights(q, k, position_bias, mask):
    """Exercise 4.3: T5's attention weights (paper §2.1), with the position bias and the mask.

    scores = q @ k^T + position_bias + additive mask, then softmax over the keys.
    There is NO division by sqrt(dk): T5 folds that scale into the initialisation of q.
    The additive mask is 0 where mask is True and np.finfo(dtype).min where it is False (your
    Exercise 3.1); with it, a query whose keys are all masked gets equal weights rather than nan.

    Args:
        q: float array (B, H, Lq, dk), the queries, already split into heads.
        k: float array (B, H, Lk, dk), the keys.
        position_bias: float array (1, H, Lq, Lk) (or (B, H, Lq, Lk)), the learned relative bias.
        mask: boolean array (B, Lk), True for keys that may be attended to (not padding).

    Returns:
        The weights, (B, H, Lq, Lk), each row summing to 1 over the keys.
    """
    # TODO: Exercise 4.3
    raise NotImplementedError("Exercise 4.3")


def shift_right(labels, decoder_start_token_id=0, pad_token_id=0):
    """Exercise 4.4: the decoder's inputs for teacher forcing (paper §3.1.2).

    With teacher forcing the decoder reads the target shifted one place to the right: position
    t sees the labels before t and predicts label t. So: put `decoder_start_token_id` first,
    drop the last label, and replace every -100 (a label ignored by the loss, which is not a
    token id) with `pad_token_id`. Do not modify `labels`.

    Args:
        labels: int array (B, L), token ids or -100.
        decoder_start_token_id: the first decoder input (T5 uses 0, the pad id).
        pad_token_id: what -100 becomes.

    Returns:
        An int array (B, L).

    Example: [[5, 6, 7, -100]] -> [[0, 5, 6, 7]]; [[5, -100, -100]] -> [[0, 5, 0]].
    """
    # TODO: Exercise 4.4
    raise NotImplementedError("Exercise 4.4")


def lm_head_logits(hidden, shared_weight, lm_head_weight=None):
    """Exercise 4.5: logits from the decoder's output, with the tied or the untied head.

    Tied (T5 v1.0, paper §2.1: the output layer shares its weights with the input embedding):
    `lm_head_weight` is None; multiply `hidden` by d_model ** -0.5 first, then project with the
    embedding: logits = (hidden * d_model ** -0.5) @ shared_weight^T. The rescaling is not in
    the paper but is in the original code, and the released checkpoints need it.
    Untied (T5 v1.1 and Flan-T5): project with `lm_head_weight` and do not rescale.

    Args:
        hidden: float array (B, L, d), the decoder's final hidden states.
        shared_weight: float array (V, d), the shared input embedding.
        lm_head_weight: None (tied), or a float array (V, d), the separate output layer.

    Returns:
        Logits, (B, L, V).
    """
    # TODO: Exercise 4.5
    raise NotImplementedError("Exercise 4.5")


def gated_gelu_ffn(x, wi_0, wi_1, wo):
    """Exercise 4.6: the gated-GELU feed-forward network of T5 v1.1 and Flan-T5.

    Not in the paper (v1.1 took it from Shazeer, "GLU Variants Improve Transformer", 2020):
        out = (gelu_new(x @ wi_0^T) * (x @ wi_1^T)) @ wo^T
    where gelu_new is the tanh approximation,
        gelu_new(z) = 0.5 z (1 + tanh(sqrt(2 / pi) (z + 0.044715 z^3))).
    Weights are stored PyTorch-style as [out_features, in_features]. Leave out dropout.

    Args:
        x: float array (..., d).
        wi_0, wi_1: float arrays (d_ff, d): the gate's and the value's projections.
        wo: float array (d, d_ff).

    Returns:
        An array (..., d).
    """
    # TODO: Exercise 4.6
    raise NotImplementedError("Exercise 4.6")
