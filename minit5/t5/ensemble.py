"""An ensemble of T5 models that predicts as one (paper §3.6, Table 13's "4x ensembled" rows).

The paper ensembles four models by averaging their logits before the output softmax. Here each
member's next-token log-probabilities are averaged and renormalised:

    log p_ens(v | y_<t, x) = log_softmax( (1/M) sum_m log p_m(v | y_<t, x) )

which is the same distribution: log p_m = z_m - logsumexp(z_m), and the per-member constants
logsumexp(z_m) vanish in the final log_softmax, leaving log_softmax(mean_m z_m). Averaging
log-probabilities instead of raw logits keeps a member whose logits are shifted by a constant
from counting differently (it cannot change its own distribution, and here it cannot change
the ensemble's either).

An ensemble is used where a model is: `ensemble(input_ids=..., labels=...)` gives the
ensemble's log-probabilities as `.logits` (and, with labels, its cross entropy as `.loss`),
which rank classification (`minit5.train.choice`) scores; `ensemble.generate(...)` runs
greedy or beam search (`minit5.t5.generation`) with one key/value cache per member. Members
keep their own weights and train/eval modes; the ensemble has no parameters of its own.
"""
from __future__ import annotations

import dataclasses

from minit5 import functional as F
from minit5.autograd.tensor import Tensor
from minit5.t5.generation import generate
from minit5.t5.model import Seq2SeqLMOutput, T5ForConditionalGeneration

# Settings that do not change what a trained model computes in evaluation mode.
_FREE_SETTINGS = ("dropout_rate", "use_cache", "extra")


def average_log_probs(logits_list) -> Tensor:
    """log_softmax of the mean of each member's log_softmax: (..., V) Tensors -> (..., V)."""
    log_probs = [F.log_softmax(z, axis=-1) for z in logits_list]
    total = log_probs[0]
    for lp in log_probs[1:]:
        total = total + lp
    return F.log_softmax(total * (1.0 / len(log_probs)), axis=-1)


def _shape(config) -> dict:
    return {k: v for k, v in dataclasses.asdict(config).items() if k not in _FREE_SETTINGS}


class T5Ensemble:
    """T5Ensemble(models): encoder-decoder models of one shape and vocabulary, on one device,
    predicting by their averaged (renormalised) next-token log-probabilities."""

    decoder_only = False     # its members are encoder-decoders (data.model_batches)

    def __init__(self, models):
        models = list(models)
        if not models:
            raise ValueError("T5Ensemble needs at least one model, got none")
        for i, m in enumerate(models):
            if not isinstance(m, T5ForConditionalGeneration):
                raise TypeError(f"T5Ensemble: member {i} is a {type(m).__name__}; members must "
                                "be encoder-decoder models (T5ForConditionalGeneration or "
                                "build_architecture's encoder-decoder variants)")
        first = _shape(models[0].config)
        for i, m in enumerate(models[1:], start=1):
            other = _shape(m.config)
            if other != first:
                differ = sorted(k for k in first if first[k] != other[k])
                raise ValueError(
                    f"T5Ensemble: member {i}'s config differs from member 0's in "
                    f"{', '.join(f'{k} ({other[k]!r} vs {first[k]!r})' for k in differ)}; an "
                    "ensemble averages next-token distributions over one vocabulary, so build "
                    "every member with the same config (dropout_rate may differ)")
            if m.array_module is not models[0].array_module:
                raise ValueError(f"T5Ensemble: member {i} is on another device than member 0; "
                                 "move them together first (model.to('cpu') or .to('gpu'))")
        self.models = models

    @property
    def config(self):
        """The members' shared config (member 0's)."""
        return self.models[0].config

    @property
    def array_module(self):
        return self.models[0].array_module

    def __len__(self):
        return len(self.models)

    def modules(self):
        """Every member's modules: what `eval()`, `train()` and `eval_mode` switch."""
        return [m for model in self.models for m in model.modules()]

    def eval(self):
        for model in self.models:
            model.eval()
        return self

    def train(self, mode: bool = True):
        for model in self.models:
            model.train(mode)
        return self

    def __call__(self, **kwargs):
        return self.forward(**kwargs)

    def forward(self, labels=None, **kwargs):
        """Each member's forward on the same batch (the keyword arguments of
        `T5ForConditionalGeneration.forward`); `.logits` holds the ensemble's log-probabilities
        (B, L_dec, V) and, with `labels`, `.loss` their mean cross entropy over labels != -100.
        """
        outputs = [m(labels=labels, **kwargs) for m in self.models]
        log_probs = average_log_probs([out.logits for out in outputs])    # (B, L_dec, V)
        # The labels were checked by every member's forward already.
        loss = None if labels is None else F.cross_entropy(log_probs, labels, validated=True)
        return Seq2SeqLMOutput(logits=log_probs, loss=loss)

    def generate(self, input_ids, attention_mask=None, **kwargs):
        """Greedy or beam search on the ensemble's distribution; see minit5.t5.generation."""
        return generate(self, input_ids, attention_mask=attention_mask, **kwargs)

    def step_decoder(self, input_ids, attention_mask=None, num_beams=1, use_cache=True):
        """Every member's step decoder (each encoding the inputs and keeping its own cache),
        read as one whose next-token "logits" are the ensemble's log-probabilities."""
        return EnsembleStepDecoder([m.step_decoder(input_ids, attention_mask, num_beams,
                                                   use_cache) for m in self.models])


class EnsembleStepDecoder:
    """One StepDecoder per member, read as one: its next-token "logits" are the ensemble's
    log-probabilities (N, V), and beam search's re-ranking moves every member's cache."""

    def __init__(self, decoders):
        self.decoders = list(decoders)

    def next_token_logits(self, sequences):
        return average_log_probs([d.next_token_logits(sequences) for d in self.decoders])

    def keep_rows(self, rows):
        for d in self.decoders:
            d.keep_rows(rows)
