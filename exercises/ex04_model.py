"""Chapter 4 exercises: the next step after each piece the chapter builds.

Paper §2.1 (model), §3.1.2 (training), and the T5 v1.1 changes. The chapter builds each piece's
forward pass; most of these exercises ask for what comes next: its backward pass (what
`minit5/functional.py` and the library's modules hold), the other direction of the relative
position buckets, or shift_right inside packed rows. Each function works on plain NumPy arrays
(float64 in the graders); shapes use B batch, H heads, L length, D d_model, dk d_kv,
V vocabulary. Grade with `make grade EX=4.2` or `minit5 grade 4`.
"""
import numpy as np


def rms_norm_backward(grad, x, weight, eps=1e-6):
    """Exercise 4.1: the backward of T5's layer norm (paper §2.1).

    The chapter builds the forward pass, over the last axis:
        r = sqrt(mean(x ** 2) + eps),   y = weight * x / r.
    Write the gradients of the loss with respect to `x` and `weight`, given its gradient `grad`
    with respect to `y`. Derive them: `r` depends on every element of its row, so each x_i
    gets a term through x_i / r directly and one through r. `weight` is shared by every row,
    so its gradient is summed over all the leading axes.

    Graded: both gradients, against `minit5.functional.rms_norm`'s backward, for any number of
    leading axes, eps from 1e-6 to 0.5, and rows of zeros (where r = sqrt(eps)).

    Args:
        grad: float array (..., D), the gradient flowing into y.
        x: float array (..., D).
        weight: float array (D,).
        eps: added to the mean square before the square root.

    Returns:
        A pair `(grad_x, grad_weight)` shaped like `x` and like `weight`.
    """
    # TODO: Exercise 4.1
    raise NotImplementedError("Exercise 4.1")


def causal_position_bucket(relative_position, num_buckets=32, max_distance=128):
    """Exercise 4.2: the buckets of decoder self-attention (paper §2.1, "position embeddings").

    The chapter builds the encoder's (bidirectional) buckets: half of them for keys before the
    query, half for keys after. The decoder attends only to the past, so it spends all
    `num_buckets` on the past: with rp = key_pos - query_pos,
        n = max(-rp, 0)       (every rp >= 0, the present and the masked future, is bucket 0)
        max_exact = num_buckets // 2
        n < max_exact:  bucket = n
        otherwise:      bucket = min(num_buckets - 1,
                            max_exact + int(log(n / max_exact) / log(max_distance / max_exact)
                                            * (num_buckets - max_exact)))
    where int() truncates toward zero. Compute the logarithmic part in float32 (n / max_exact
    as np.float32, and np.float32(log(max_distance / max_exact))), as `transformers` does: at
    the edge between two buckets float64 can round the other way for some settings, and a
    checkpoint's learned biases belong to the reference's buckets.

    Graded: every rp in [-300, 300] at the defaults, the edges of every log bucket, and random
    num_buckets and max_distance.

    Args:
        relative_position: int array of any shape (key_pos - query_pos).
        num_buckets, max_distance: T5's defaults are 32 and 128.

    Returns:
        An int array shaped like `relative_position`, each value in [0, num_buckets).

    Example (defaults): rp = 3 -> 0, rp = -3 -> 3, rp = -20 -> 17, rp = -200 -> 31.
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


def packed_shift_right(labels, segment_ids):
    """Exercise 4.4: the decoder's inputs when several targets share a row (paper §3.1.2).

    The chapter's `shift_right` shifts a whole row: [start, y0, y1, ...]. A packed row holds
    several examples' targets one after another, and each example must be decoded as if it
    were alone: every segment starts again from the decoder start token 0 and sees only its own
    labels. `segment_ids` says which example each position belongs to (1, 2, ...; contiguous,
    in order), with 0 for the padding at the end, whose labels are -100 and whose decoder
    inputs are the pad id 0.

    Graded: exact values for random packed rows, rows of one segment, rows with no padding and
    rows of padding only.

    Args:
        labels: int array (B, L): token ids (>= 0) inside segments, -100 on padding.
        segment_ids: int array (B, L), as above.

    Returns:
        A new int array (B, L).

    Example: labels [[5, 6, 7, 8, -100]], segment_ids [[1, 1, 2, 2, 0]] -> [[0, 5, 0, 7, 0]].
    """
    # TODO: Exercise 4.4
    raise NotImplementedError("Exercise 4.4")


def tied_head_backward(grad, hidden, shared_weight):
    """Exercise 4.5: the backward of the tied output head of T5 v1.0 (paper §2.1).

    The chapter builds the head's forward pass: with tied embeddings,
        logits = (hidden * D ** -0.5) @ shared_weight^T
    where D = d_model = hidden.shape[-1]. Write the gradients with respect to `hidden` and
    `shared_weight`, given `grad`, the gradient of the logits. The matrix is used at every
    batch position, so its gradient is summed over all of them. (In the model this is only one
    of the two gradients `shared.weight` receives; the input embedding adds the other.)

    Graded: both gradients against the library's head, for random B, L, D and V.

    Args:
        grad: float array (B, L, V).
        hidden: float array (B, L, D), the decoder's final hidden states.
        shared_weight: float array (V, D), the shared embedding.

    Returns:
        A pair `(grad_hidden, grad_shared_weight)` shaped like the two inputs.
    """
    # TODO: Exercise 4.5
    raise NotImplementedError("Exercise 4.5")


def gated_gelu_ffn_backward(grad, x, wi_0, wi_1, wo):
    """Exercise 4.6: the backward of the gated-GELU feed-forward network of T5 v1.1.

    The chapter builds its forward pass (no dropout here):
        a = x @ wi_0^T,  b = x @ wi_1^T,  h = gelu_new(a) * b,  out = h @ wo^T
    with gelu_new(z) = 0.5 z (1 + tanh(c (z + 0.044715 z^3))), c = sqrt(2 / pi). Write the
    gradients of all four inputs given `grad`, the gradient of `out`. You need gelu_new's
    derivative: differentiate the product 0.5 z (1 + tanh(u)) with u = c (z + 0.044715 z^3),
    using tanh' = 1 - tanh^2. Weights are stored as [out_features, in_features], and each
    weight's gradient is summed over all leading axes of x.

    Graded: all four gradients against the library's T5DenseGatedActDense, for any number of
    leading axes.

    Args:
        grad: float array (..., D).
        x: float array (..., D).
        wi_0, wi_1: float arrays (d_ff, D).
        wo: float array (D, d_ff).

    Returns:
        A tuple `(grad_x, grad_wi_0, grad_wi_1, grad_wo)` shaped like the inputs.
    """
    # TODO: Exercise 4.6
    raise NotImplementedError("Exercise 4.6")
