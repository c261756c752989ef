"""Chapter 9 exercises: the single-stack models of §3.2, and what the architectures cost.

The chapter draws the attention patterns of Figure 3 for one unpacked sequence, counts the
parameters of the encoder-decoder and the language model by hand for one ReLU shape, and the
FLOPs of the encoder-decoder. These exercises take the next steps: the row a decoder-only
model reads for one example, the prefix-LM mask of a packed row, and both counts for every
architecture and any configuration, without building the model. Grade
with `make grade EX=9.1` or `minit5 grade 9`. Inputs are NumPy arrays (or a config); leave
them as they were passed.
"""


def decoder_only_example(inputs, targets, length):
    """Exercise 9.1: one (inputs, targets) example as the row a decoder-only model reads.

    The model reads the inputs followed by the targets as one sequence (cut to `length`
    tokens when longer, the targets losing their end), shifted right by one: the decoder
    start id 0 comes first and the sequence's last token is dropped. It predicts every next
    token, but the loss counts only the target positions. A prefix LM sees the prefix
    positions in both directions: the positions that read the start id or an input token,
    which is one more than there are inputs (the position that predicts the first target
    reads the last input). Positions after the sequence are padding.

    Graded: the three arrays exactly, for random examples (some cut), and that the inputs
    are unchanged.

    Args:
        inputs: int array (n,), the input ids, n < length (may be empty).
        targets: int array (m,), the target ids, m >= 1.
        length: the row's length in tokens.

    Returns:
        (input_ids, labels, prefix_mask), each an int64 array (length,): input_ids the shifted
        sequence, 0 on padding; labels the sequence's token where the loss counts, -100
        elsewhere (inputs and padding); prefix_mask 1 on the prefix positions, 0 elsewhere.
    """
    # TODO: Exercise 9.1
    raise NotImplementedError("Exercise 9.1")


def packed_prefix_lm_mask(prefix_mask, segment_ids):
    """Exercise 9.2: which keys each query of a packed prefix-LM row may see.

    A packed row holds several examples, one segment each (segment ids 1, 2, ...; 0 on
    padding). Query i may see key j when both are in the same example (never a padding
    key), and j is not after i, or j lies in the example's prefix.

    Graded: every entry, for rows packed from random examples (with and without padding,
    some with no prefix beyond the first position), and that the inputs are unchanged.

    Args:
        prefix_mask: int array (B, L), 1 on prefix positions, 0 elsewhere.
        segment_ids: int array (B, L), the example each position belongs to, 0 on padding.

    Returns:
        A bool array (B, 1, L, L): entry [b, 0, i, j] is True when query i of row b may see
        key j.
    """
    # TODO: Exercise 9.2
    raise NotImplementedError("Exercise 9.2")


def architecture_parameters(name, config):
    """Exercise 9.3: the parameter count of one of Table 2's architectures, from its config.

    The architectures are those of `minit5.t5.architectures.build_architecture`: the
    encoder-decoder; the shared encoder-decoder (each decoder block uses its encoder block's
    self-attention and feed-forward layers, norms included, and the encoder's final norm;
    the cross-attentions are the decoder's own); the half-depth encoder-decoder
    (max(1, num_layers // 2) layers in each stack); the language model and the prefix LM (one
    stack of num_layers blocks without cross-attention). Count every array once, a shared or
    tied one included, as `count_parameters(build_architecture(name, config))` does, but
    without building the model. Mind the feed-forward layer's kind (`config.is_gated_act`),
    the head (`config.tie_word_embeddings`), where the relative-position tables live, that
    the inner attention width is `config.inner_dim`, and the adapters of §3.5.1 when
    `config.adapter_dim` is set (an adapter after every block's feed-forward layer, wi of
    adapter_dim x d_model and wo of d_model x adapter_dim, no bias; shared where the
    feed-forward layer is shared).

    Graded: the count exactly, for random configs of every architecture (every
    feed_forward_proj kind, tied and untied heads, decoders deeper or shallower than the
    encoder, with and without adapters), and the t5-small preset.

    Args:
        name: one of "encoder-decoder", "shared encoder-decoder", "half-depth
            encoder-decoder", "language model", "prefix LM".
        config: a `minit5.T5Config`.

    Returns:
        The number of parameters, an int.
    """
    # TODO: Exercise 9.3
    raise NotImplementedError("Exercise 9.3")


def forward_flops(name, config, inputs_length, targets_length):
    """Exercise 9.4: the FLOPs of one forward pass of one example, for each architecture.

    Count the matrix products only, 2 FLOPs per multiply-add: every projection (q, k, v, o of
    every attention, the feed-forward matrices, the output projection to the vocabulary) on
    every position it is applied to, and the two attention products (scores and weighted
    values) over every (query, key) pair computed, the masked pairs included. Leave out norms,
    softmax, the position bias and the embedding lookup. An encoder-decoder's encoder reads the
    inputs_length input tokens and its decoder the targets_length target tokens, and only the
    targets are projected to the vocabulary; a single stack reads inputs and targets as one
    sequence and projects every position of it. The half-depth model has
    max(1, num_layers // 2) layers in each stack.

    Graded: the count exactly, for random configs (every feed_forward_proj kind, decoders
    deeper or shallower than the encoder, head widths other than d_model), lengths (an empty
    input for the single stacks) and architectures.

    Args:
        name: one of the five architectures (see Exercise 9.3).
        config: a `minit5.T5Config`.
        inputs_length: the input tokens n (>= 1 for an encoder-decoder, >= 0 otherwise).
        targets_length: the target tokens m (>= 1).

    Returns:
        The FLOPs, an int.
    """
    # TODO: Exercise 9.4
    raise NotImplementedError("Exercise 9.4")
