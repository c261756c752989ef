"""Reference solutions the library itself does not call.

Each module here answers a graded exercise (`exercises/reference.py` hands it to the graders)
or is a tool a chapter builds and checks, but no training, evaluation, decoding or experiment
code of minit5 uses it: kept apart so that the library's modules hold only what the library
runs. Nothing in `minit5` imports this package (tests/test_import_graph.py checks it).

    byte_tokenizer      ByT5's byte-level ids (Exercise 16.2)
    corpus_measures     a corpus's unigram cross entropy, repeats, shared spans (11.1-11.3)
    gnmt_penalty        ranking hypotheses by GNMT's length penalty (Exercise 15.2)
    language_sampling   mT5's temperature sampling over languages (Exercise 16.3)
    ngram_ban           transformers' no_repeat_ngram_size (Exercise 14.4)
    parameter_groups    a config's parameters split by the part of the model (Exercise 15.1)
    state_bytes         the optimizer state's size from shapes alone (chapter 7, Exercise 12.2)
    untie               untie, or tie back, the output projection (chapter 15, Exercise 15.3)
"""
