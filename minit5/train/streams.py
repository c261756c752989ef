"""Training data as a pure function of (seed, step).

The batch for step s is drawn from `numpy.random.default_rng([seed, s, stream])` and nothing
else, so the "data position" of a run is just its step: resuming at step s replays exactly the
batches an uninterrupted run would have seen, with no iterator state to save.

  PretrainStream         pre-training (§3.1.4, §3.3) with any objective of
                         `minit5.data.objectives.OBJECTIVES`: pieces of documents, packed.
                         (`SpanCorruptionStream` is its former name, from when span corruption
                         and the i.i.d. baseline were the only objectives it knew.)
  ObjectiveStream        pre-training with any objective of §3.3 and any architecture of §3.2:
                         one document piece per row, padded (the paper-table miniatures).
  TaskMixtureStream      fine-tuning (§3.5.2): synthetic tasks mixed at given rates, padded.
  MixtureStream          multi-task pre-training and training (§3.5.2): rows from several
                         sources (an objective on pieces, a task's training examples) at rates.
"""
from __future__ import annotations

import numpy as np

from minit5.data.batching import collate, pack
from minit5.data.mixing import TaskMixture
from minit5.data.objectives import make_objective

PRETRAIN, FINETUNE, EVAL, DROPOUT = 0, 1, 2, 3   # stream ids inside the seed (the task mixer,
                                                 # minit5.data.mixing, uses 4)


def step_rng(seed: int, step: int, stream: int) -> np.random.Generator:
    return np.random.default_rng([seed, step, stream])


def document_pieces(documents_ids, length: int, min_piece: int = 8) -> list:
    """Each document's token ids cut into consecutive pieces of `length` (the last one of a
    document shorter); pieces under `min_piece` tokens are dropped."""
    pieces = []
    for ids in documents_ids:
        ids = np.asarray(ids, dtype=np.int64)
        for start in range(0, len(ids), length):
            piece = ids[start:start + length]
            if len(piece) >= min_piece:
                pieces.append(piece)
    if not pieces:
        raise ValueError(f"the corpus gave no pieces of at least {min_piece} tokens: give it "
                         "more text")
    return pieces


class PretrainStream:
    """Documents are tokenized (no EOS; the objective appends it) and cut into pieces of at
    most `tokens_length`, the length whose inputs fill `inputs_length` for this objective
    (`BoundObjective.piece_lengths`: `random_spans_helper` for span corruption, exactly;
    inputs_length - 1 for the others, whose inputs are never longer than the piece plus EOS,
    with targets as long as the inputs). Each step samples pieces uniformly with replacement.

    `objective` is a name of `minit5.data.objectives.OBJECTIVES`; `noise_density` and
    `mean_noise_span_length` are passed to it when set (None: the objective's defaults, 0.15
    and 3.0; prefix_lm's noise_density 0.5)."""

    def __init__(self, documents_ids, vocab_size, inputs_length, batch_size, seed,
                 noise_density=None, mean_noise_span_length=None, pack_rows=True,
                 min_piece=8, objective="span_corruption"):
        params = dict(noise_density=noise_density, mean_noise_span_length=mean_noise_span_length)
        self.objective = make_objective(objective, vocab_size,
                                        **{k: v for k, v in params.items() if v is not None})
        self.tokens_length, self.targets_length = self.objective.piece_lengths(inputs_length)
        self.pieces = document_pieces(documents_ids, self.tokens_length, min_piece)
        self.vocab_size, self.inputs_length = vocab_size, inputs_length
        self.batch_size, self.seed, self.pack_rows = batch_size, seed, pack_rows

    def __len__(self):
        return len(self.pieces)

    def _example(self, rng):
        return self.objective(self.pieces[int(rng.integers(len(self.pieces)))], rng)

    def batch(self, step: int):
        rng = step_rng(self.seed, step, PRETRAIN)
        if not self.pack_rows:
            examples = [self._example(rng) for _ in range(self.batch_size)]
            return collate(examples, self.inputs_length, self.targets_length)
        # Draw until the inputs hold about batch_size rows of tokens, or until the targets
        # hold more than batch_size rows' worth (lm's inputs are EOS alone). The second stop
        # changes no batch: a row holds at most targets_length target ids, so a row past the
        # batch has begun, and packing is greedy and in order, so later examples could not
        # change the first batch_size rows.
        examples, tokens, target_tokens = [], 0, 0
        budget = self.batch_size * self.inputs_length
        target_room = self.batch_size * self.targets_length
        while True:
            while tokens < budget and target_tokens <= target_room:
                examples.append(self._example(rng))
                tokens += len(examples[-1][0])
                target_tokens += min(len(examples[-1][1]), self.targets_length)
            packed = pack(examples, self.inputs_length, self.targets_length)
            if len(packed) >= self.batch_size:
                return packed[:self.batch_size]
            budget += self.inputs_length * (self.batch_size - len(packed))


SpanCorruptionStream = PretrainStream   # its former name (chapter 7 and older scripts use it)


class ObjectiveStream:
    """Row r of step s is one piece drawn uniformly (with replacement) from `pieces`, turned
    into an (inputs, targets) pair by `objective(piece, rng)`; `collate(examples)` makes the
    batch the model reads (padding to the longest row; a decoder-only model's collate joins
    inputs and targets into one sequence). Every objective of §3.3 thus sees the same text per
    step, whatever lengths its inputs and targets come out at."""

    def __init__(self, pieces, objective, collate, batch_size: int, seed: int):
        if not len(pieces):
            raise ValueError("ObjectiveStream: no pieces to draw from; give it some text")
        self.pieces, self.objective, self.collate = pieces, objective, collate
        self.batch_size, self.seed = batch_size, seed

    def examples(self, step: int) -> list:
        rng = step_rng(self.seed, step, PRETRAIN)
        return [self.objective(self.pieces[int(rng.integers(len(self.pieces)))], rng)
                for _ in range(self.batch_size)]

    def batch(self, step: int):
        return self.collate(self.examples(step))


class TaskMixtureStream:
    """Each row's task comes from the mixer (`TaskMixture`, a pure function of (seed, step)),
    then one example of it is drawn. Inputs that occur in the evaluation set are drawn again,
    so evaluation measures generalisation."""

    def __init__(self, tasks: dict, rates: dict, tokenizer, batch_size, seed,
                 held_out=frozenset()):
        if set(tasks) != set(rates):
            raise ValueError(f"TaskMixtureStream: tasks and rates must name the same tasks; "
                             f"tasks has {sorted(tasks)}, rates has {sorted(rates)}")
        self.mixture = TaskMixture({name: rates[name] for name in tasks})
        self.tasks, self.tokenizer = tasks, tokenizer
        self.batch_size, self.seed, self.held_out = batch_size, seed, held_out

    def examples(self, step: int):
        rng = step_rng(self.seed, step, FINETUNE)
        out = []
        for name in self.mixture.tasks(self.seed, step, self.batch_size):
            task = self.tasks[name]
            for _attempt in range(100):
                source, target = task.make_example(rng)
                if source not in self.held_out:
                    break
            else:   # never train on an evaluation input, even if that means stopping
                raise RuntimeError(f"task {task.name!r} drew 100 inputs in a row that are all in "
                                   "the evaluation set: its input space is too small for this "
                                   "many evaluation examples; lower eval_examples")
            out.append((source, target))
        return out

    def batch(self, step: int):
        encoded = [(self.tokenizer.encode(s), self.tokenizer.encode(t))
                   for s, t in self.examples(step)]
        return collate(encoded)


class MixtureStream:
    """Row r of step s comes from the source the mixer (`TaskMixture`, a pure function of
    (seed, s)) names for it. A source is a function `draw(rng) -> (inputs, targets)` (e.g. an
    objective applied to a random piece, or a random training example), called in row order
    with `step_rng(seed, s, stream)`, so a batch depends on (seed, s) alone; `collate(examples)`
    makes the batch the model reads."""

    def __init__(self, sources: dict, rates: dict, collate, batch_size: int, seed: int,
                 stream: int = PRETRAIN):
        if set(sources) != set(rates):
            raise ValueError(f"MixtureStream: sources and rates must name the same tasks; "
                             f"sources has {sorted(sources)}, rates has {sorted(rates)}")
        self.mixture = TaskMixture({name: rates[name] for name in sources})
        self.sources, self.collate = sources, collate
        self.batch_size, self.seed, self.stream = batch_size, seed, stream

    def rows(self, step: int) -> list:
        """[(task name, (inputs, targets)), ...] for the rows of step `step`."""
        rng = step_rng(self.seed, step, self.stream)
        return [(name, self.sources[name](rng))
                for name in self.mixture.tasks(self.seed, step, self.batch_size)]

    def batch(self, step: int):
        return self.collate([example for _, example in self.rows(step)])


def eval_sets(tasks: dict, n: int, seed: int) -> dict:
    """A fixed evaluation set per task: name -> list of (input_text, target_text)."""
    return {name: task.make_examples(n, step_rng(seed, i, EVAL))
            for i, (name, task) in enumerate(tasks.items())}
