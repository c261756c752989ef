"""Gradual unfreezing (paper §3.5.1, Table 10): fine-tune from the top layer down.

§3.5.1 (after Howard and Ruder, 2018): at first only the last layer is fine-tuned, then one
more layer from the top joins at a time until the whole network trains, the encoder and the
decoder unfrozen in parallel; the shared embedding/output matrix, the output layer of a tied
model, is updated throughout. The paper splits its 2^18 fine-tuning steps into 12 equal
episodes, one per layer of its 12-layer stacks.

Here, for a model with N blocks per stack fine-tuned for T steps (steps count from 1):

    episodes    N equal runs of steps, `unfreezing_episodes(N, T)`; episode n (1..N) holds the
                steps k with ceil(k N / T) = n
    episode n   the top n blocks of the encoder and of the decoder train, and with the top
                block each stack's final layer norm (it reads the top block's output); the
                shared embedding `shared.weight` (and an untied `lm_head`) always
    the rest    frozen (requires_grad False: no gradient, no update, no optimizer state)

The relative attention bias lives in block 0's self-attention (the checkpoint's
`*.block.0.layer.0.SelfAttention.relative_attention_bias.weight`, as in the original code), so
it unfreezes with block 0, in the last episode, like every other weight named by its block.
Stacks of different depths unfreeze in proportion: a stack of L blocks has its top
ceil(n L / N) blocks trainable in episode n, N being the deeper stack's depth.

`apply_unfreezing(model, step, total_steps)` sets all of that from the step alone; the
trainer calls it before every step (`Trainer(..., before_step=...)`), so a run resumed at any
step trains exactly what the uninterrupted run trained there. A weight that joins late starts
its optimizer state (Adafactor's moments and its own step counter) when it first trains.
"""
from __future__ import annotations

import math


def _check_count(name, value):
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"{name} must be a whole number >= 1, got {value!r}")


def unfreezing_episodes(num_layers: int, total_steps: int) -> list:
    """[(first step, last step), ...] of the `num_layers` equal episodes of a `total_steps`
    run, steps counted from 1, both ends included (lengths differ by at most one step)."""
    _check_count("num_layers", num_layers)
    _check_count("total_steps", total_steps)
    if total_steps < num_layers:
        raise ValueError(f"gradual unfreezing of {num_layers} layers needs at least one step "
                         f"per layer, got total_steps={total_steps}; train for more steps")
    ends = [k * total_steps // num_layers for k in range(num_layers + 1)]
    return [(ends[k] + 1, ends[k + 1]) for k in range(num_layers)]


def unfreezing_episode(step: int, num_layers: int, total_steps: int) -> int:
    """The episode (1..num_layers) that `step` (1..total_steps) falls in."""
    for n, (first, last) in enumerate(unfreezing_episodes(num_layers, total_steps), start=1):
        if first <= step <= last:
            return n
    raise ValueError(f"step {step!r} is outside the run's steps 1..{total_steps}")


def _stacks(model) -> list:
    stacks = [getattr(model, name) for name in ("encoder", "decoder") if hasattr(model, name)]
    if not stacks or not all(hasattr(stack, "block") for stack in stacks):
        raise TypeError(f"gradual unfreezing needs a T5 model with encoder and/or decoder "
                        f"stacks of blocks, got {type(model).__name__}")
    return stacks


def apply_unfreezing(model, step: int, total_steps: int) -> int:
    """Set requires_grad on every parameter of `model` for `step` of a `total_steps`
    fine-tuning run (see the module docstring); returns the episode number."""
    stacks = _stacks(model)
    depth = max(len(stack.block) for stack in stacks)
    episode = unfreezing_episode(step, depth, total_steps)
    model.requires_grad_(False)
    for stack in stacks:
        layers = len(stack.block)
        top = math.ceil(episode * layers / depth)
        for block in list(stack.block)[layers - top:]:
            block.requires_grad_(True)
        stack.final_layer_norm.requires_grad_(True)
    model.shared.requires_grad_(True)
    if hasattr(model, "lm_head"):
        model.lm_head.requires_grad_(True)
    return episode


def gradual_unfreezing(model, total_steps: int):
    """The `before_step` callable for a Trainer: step -> apply_unfreezing(model, step, ...).
    Checks `total_steps` against the model's depth at once, not at the first step."""
    unfreezing_episodes(max(len(stack.block) for stack in _stacks(model)), total_steps)
    return lambda step: apply_unfreezing(model, step, total_steps)
