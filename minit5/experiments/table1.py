"""Table 1 in miniature: does pre-training help? (paper §3.1.5, "Baseline" vs "No pre-training").

The paper's baseline pre-trains on C4 and then fine-tunes on each downstream task; the control
row fine-tunes the same architecture from random weights with the same fine-tuning budget. The
gap (GLUE 83.28 vs 66.22, SQuAD 80.88 vs 50.31) is largest where the downstream data are small
and the task needs knowledge of the language: pre-training has read a lot of English, the
fine-tuning set has not. Translation to French (EnFr, a huge training set) shows no gap.

This miniature is designed to create those conditions on a CPU. The design was fixed, and
written here, before any result was looked at.

Data. The built-in corpus (English docstrings of the Python standard library, cleaned with the
C4 rules) is split by page with a fixed permutation: 85% of the pages are the pre-training
corpus; the sentences of the other 15% feed the fine-tuning tasks, so no task sentence was ever
seen in pre-training (the model knows the language, not the answers). Those sentences (6-20
words, letters and ordinary punctuation only, duplicates removed) are split once into a
training pool (40%), a validation pool (20%) and a test pool (40%).

Tasks (`minit5.experiments.language_tasks`), each a GLUE/SQuAD-like text-to-text task (§2.4)
that a model can only solve by knowing English word order and vocabulary:
  acceptability  CoLA-like: the sentence as written -> "acceptable"; with two of its words
                 (never the first) swapped -> "unacceptable". Balanced classes, accuracy
                 (chance 50%).
  cloze          one word of 4+ letters replaced by "___" -> that word. Exact match.
  intruder       one word of 4+ letters replaced by another corpus word of 4+ letters (drawn by
                 its frequency in the pre-training pages) -> the intruding word (an extraction
                 task: the answer is a span of the input, as in SQuAD). Exact match.
Low resource: 128 training examples per task (the seed draws them from the training pool), 64
validation and 128 test examples per task (fixed across seeds).

Model and pre-training. The "tiny" preset (2+2 layers, d_model 128, 4 heads, d_ff 512, ReLU,
dropout 0.1); a 2,000-piece SentencePiece vocabulary (+100 sentinels) trained on the
pre-training pages; span corruption (15%, mean span 3) for 1,000 steps of 32 packed rows of 64
tokens, Adafactor with the inverse square root schedule (peak 0.01, 100 warm-up steps). One
pre-trained model (seed 0) serves every fine-tuning seed.

Fine-tuning, the same for both arms ("pre-trained" starts from the pre-trained weights, "from
scratch" from the HF initialisation of the same architecture): one model on the mixture of the
three tasks' training sets (the paper fine-tunes each task separately; one mixture run per arm
saves two thirds of the CPU time), rows of 16 examples, Adafactor at a constant learning rate,
400 steps (about 17 passes over the 384 training examples). The validation score (the mean of
the three primary metrics) is measured every 50 steps and the best checkpoint is kept, as the
paper keeps the checkpoint with the best validation score (§3.1.2); that checkpoint alone is
scored on the test split. The learning rate is chosen from {1e-3, 3e-3, 1e-2} by the validation
score averaged over both arms, at a tuning seed (100) that is not among the reported seeds; the
test split plays no part in any choice.

Seeds 0, 1, 2, ...: a seed sets the training sample, the data order, the dropout masks and the
from-scratch arm's initialisation. The spread therefore covers fine-tuning randomness only (the
paper's ten runs also re-ran pre-training). The reported "average" is, per seed, the mean of the
three primary metrics on the test split, in 0-100.
"""
