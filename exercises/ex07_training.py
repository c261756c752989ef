"""Chapter 7 exercises: pre-training, from the noise mask to one Adafactor step.

Paper §3.1.2 (training), §3.1.4 (the i.i.d. baseline objective), §3.3.4 (span corruption) and
Adafactor (Shazeer & Stern 2018). The chapter builds the random split into span lengths, the
way back from (inputs, targets) to the text, the length arithmetic of one corrupted piece and
Adafactor for a vector; these exercises build the next step of each. Token arrays are 1-D
int64; `vocab_size` counts the sentinels (`<extra_id_0>` = vocab_size - 1). Grade with
`make grade EX=7.1` or `minit5 grade 7`.
"""
import numpy as np


def random_spans_noise_mask(length, noise_density=0.15, mean_noise_span_length=3.0, rng=None):
    """Exercise 7.1: the noise mask of span corruption (§3.3.4), as the t5 library draws it.

    The counts are fixed by the arguments; only where the spans fall is random:
      L = max(length, 2)
      num_noise = round(L * noise_density), then clipped into [1, L - 1]
      num_spans = max(round(num_noise / mean_noise_span_length), 1)
      num_nonnoise = L - num_noise
    (round() is Python's: halves go to the even integer.) Split `num_noise` into `num_spans`
    positive lengths with the chapter's `random_lengths`, then `num_nonnoise` likewise, in
    that order and with `rng` (so the same generator state gives the library's mask). The
    spans alternate starting with a non-noise span: nonnoise_0, noise_0, nonnoise_1, noise_1,
    ... so the mask starts False and ends True. Return its first `length` entries.

    Graded: the exact mask for the same generator state as the library, for lengths from 0 up,
    several densities and span lengths; and the counts above, so a wrong mask says what is off.

    Args:
        length: int >= 0.
        noise_density: in (0, 1), 0.15 in T5.
        mean_noise_span_length: >= 1, 3.0 in T5.
        rng: a numpy.random.Generator.

    Returns:
        A bool array (length,).
    """
    # TODO: Exercise 7.1
    raise NotImplementedError("Exercise 7.1")


def replace_with_sentinels(tokens, noise_mask, vocab_size, eos_id=1):
    """Exercise 7.2: inputs and targets from tokens and a noise mask (§3.1.4, Figure 2).

    Inputs: each run of consecutive noise tokens becomes one sentinel, the first run
    `<extra_id_0>` (vocab_size - 1), the next `<extra_id_1>` (vocab_size - 2), and so on; the
    other tokens stay. Targets: the same on the inverted mask, so each run of non-noise tokens
    becomes a sentinel and the noise tokens stay. Both end with `eos_id`. (The paper's Figure 2
    ends the targets with one more sentinel; the released code does not, and neither does
    this.) The chapter's `uncorrupt` goes the other way: it must give `tokens` back.

    Graded: exact arrays for random masks: no noise, all noise, runs at either end.

    Args:
        tokens: int array (n,), ids below the sentinels.
        noise_mask: bool array (n,).
        vocab_size: int, sentinels included.
        eos_id: appended to both.

    Returns:
        A pair `(inputs, targets)` of 1-D int arrays.

    Example (vocab_size 100): tokens [5 6 7 8 9], mask [F T T F T]
        -> inputs [5 99 8 98 1], targets [99 6 7 98 9 1].
    """
    # TODO: Exercise 7.2
    raise NotImplementedError("Exercise 7.2")


def iid_replace_spans(tokens, vocab_size, rng, noise_density=0.15, eos_id=1):
    """Exercise 7.3: the §3.1.4 baseline objective: i.i.d. noise, runs replaced by sentinels.

    The baseline chooses each token independently with probability `noise_density`; draw
    the choice as `rng.random(len(tokens)) < noise_density` (one call, so that the same
    generator state gives the library's pair). Then make inputs and targets as in Exercise
    7.2. Unlike span corruption, the number of noise tokens is random, and it may be zero.

    Graded: exact arrays for the same generator state as the library, several densities.

    Args:
        tokens: int array (n,).
        vocab_size: int, sentinels included.
        rng: a numpy.random.Generator.
        noise_density: the probability that a token is noise.
        eos_id: appended to both.

    Returns:
        A pair `(inputs, targets)` of 1-D int arrays.
    """
    # TODO: Exercise 7.3
    raise NotImplementedError("Exercise 7.3")


def random_spans_helper(inputs_length, noise_density=0.15, mean_noise_span_length=3.0):
    """Exercise 7.4: how many raw tokens to cut so span corruption fills `inputs_length`.

    The chapter's `corrupted_lengths(n)` gives the inputs and targets lengths of a corrupted
    piece of n tokens: with num_noise = round(n * density) and num_spans =
    round(num_noise / mean_len), the inputs keep n - num_noise tokens plus a sentinel per span
    plus EOS, and the targets num_noise tokens plus a sentinel per span plus EOS. Find the
    largest n whose inputs length is at most `inputs_length` (start from n = inputs_length - 1
    and grow), and return it with its targets length. One special case from the t5 library:
    at noise_density 0.5 the targets must not be longer than the inputs, so if they are, take
    one token less (and one target less).

    Graded: exact pairs, e.g. 512 -> (568, 114), for many lengths, densities and span lengths.

    Args:
        inputs_length: int >= 2.
        noise_density, mean_noise_span_length: as in Exercise 7.1.

    Returns:
        A pair of ints `(tokens_length, targets_length)`.
    """
    # TODO: Exercise 7.4
    raise NotImplementedError("Exercise 7.4")


def factored_second_moment(grad, row, col, step, decay_rate=-0.8, eps1=1e-30):
    """Exercise 7.5: Adafactor's running second moment of a matrix, factored.

    The chapter's Adafactor for a vector keeps a full running mean V of G^2. For an (n, m)
    weight Adafactor keeps only a row vector R (n,) and a column vector C (m,) (Algorithm 4 of
    the Adafactor paper, with means instead of sums):
        beta2_t = 1 - step ** decay_rate
        R_t = beta2_t R_{t-1} + (1 - beta2_t) * mean over columns of (G^2 + eps1)
        C_t = beta2_t C_{t-1} + (1 - beta2_t) * mean over rows of (G^2 + eps1)
    `step` is this step's number, counted from 1 (at step 1, beta2 is 0 and the old R and C
    are forgotten). Return the new R and C as new arrays; do not change `row` and `col`.

    Graded: both vectors against minit5's Adafactor state, for random shapes and steps.

    Args:
        grad: float array (n, m).
        row: float array (n,), R_{t-1}.
        col: float array (m,), C_{t-1}.
        step: int >= 1.
        decay_rate: -0.8 in the paper.
        eps1: 1e-30.

    Returns:
        A pair `(row, col)`: R_t (n,) and C_t (m,).
    """
    # TODO: Exercise 7.5
    raise NotImplementedError("Exercise 7.5")


def adafactor_step(param, grad, row, col, step):
    """Exercise 7.6: one whole Adafactor step on a matrix, with T5's settings.

    From Exercise 7.5's R_t and C_t (decay_rate -0.8, eps1 1e-30), rebuild the second moment
    as the rank-one V = outer(R_t, C_t) / mean(R_t) and take U = G / sqrt(V). Then:
      * update clipping: U <- U / max(1, RMS(U) / d) with d = 1, where RMS(a) =
        sqrt(mean(a ** 2));
      * relative step size: rho_t = min(1e-2, 1 / sqrt(step));
      * parameter scale: alpha_t = max(eps2, RMS(param)) * rho_t with eps2 = 1e-3, the RMS of
        the parameter *before* this step;
      * param_t = param - alpha_t * U.
    No momentum and no weight decay (as T5 trains). Return new arrays; change none of the
    inputs.

    Graded: all three results against minit5's Adafactor for random shapes, steps and scales,
    including gradients large enough for the clipping to act and parameters near zero.

    Args:
        param: float array (n, m), the weight before the step.
        grad: float array (n, m).
        row, col: float arrays (n,), (m,): R_{t-1}, C_{t-1}.
        step: int >= 1, this step's number.

    Returns:
        A tuple `(param, row, col)`: the new weight, R_t and C_t.
    """
    # TODO: Exercise 7.6
    raise NotImplementedError("Exercise 7.6")


def inverse_sqrt(step, warmup=10_000):
    """Exercise 7.7: T5's pre-training learning rate (§3.1.2).

    The paper uses 1 / sqrt(max(n, k)) at step n, with k = 10^4 warm-up steps: a constant
    0.01 for the first 10^4 steps, then an inverse-square-root decay. Here k is `warmup`.
    A step below 0 is a mistake of the caller, and so is a warmup below 1 (1/sqrt(0) has no
    value): raise a ValueError whose message names the argument.

    Graded: the value for steps across the warm-up edge, several warm-ups, and the errors.

    Args:
        step: int >= 0.
        warmup: int >= 1.

    Returns:
        The learning rate, a float.
    """
    # TODO: Exercise 7.7
    raise NotImplementedError("Exercise 7.7")


def pack_sequences(sequences, length):
    """Exercise 7.8: pack token sequences into rows of fixed length (§3.1.2).

    T5 fills each row of a batch with several examples instead of padding one out. Go through
    `sequences` in order, trimming any longer than `length` to its first `length` tokens; put
    each into the current row if it still fits, else start a new row with it. In each row,
    example k (counting from 1) gets segment id k at its positions; what is left of the row
    is padding: token 0, segment id 0. Attention is then allowed only between positions of the
    same segment (chapter 7 shows why the relative position bias needs nothing more).

    Graded: exact arrays for random lengths: sequences that exactly fill a row, sequences
    longer than a row, many short ones.

    Args:
        sequences: a non-empty list of non-empty 1-D int arrays.
        length: int >= 1, the row length.

    Returns:
        A pair `(tokens, segment_ids)`, int arrays (R, length), R the number of rows.

    Example: [[5, 6], [7, 8, 9], [4, 4, 4, 4, 4]], length 6
        -> tokens [[5 6 7 8 9 0], [4 4 4 4 4 0]], segment_ids [[1 1 2 2 2 0], [1 1 1 1 1 0]].
    """
    # TODO: Exercise 7.8
    raise NotImplementedError("Exercise 7.8")
