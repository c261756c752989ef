"""Data for T5: tokenizer, C4 cleaning, corpora, pre-training objectives, text-to-text tasks,
mixing, and batching/packing. NumPy and sentencepiece only; randomness is always an explicit
numpy Generator.

    from minit5.data import random_spans_noise_mask, random_spans_helper, span_corruption
"""
from minit5.data.batching import IGNORE_INDEX, Batch, collate, pack, pad_sequences, shift_right
from minit5.data.cleaning import (CleaningReport, SpanDeduplicator, clean_corpus, clean_pages,
                                  count_sentences, langdetect_filter, load_bad_words,
                                  split_sentences)
from minit5.data.corpus import (CorpusFormatError, CorpusStats, builtin_corpus, corpus_stats,
                                corpus_vocabulary, read_jsonl, read_txt)
from minit5.data.metrics import (accuracy, average_ranks, bleu, exact_match, pearson, rouge,
                                 spearman, token_f1)
from minit5.data.mixing import MixtureSampler, empirical_rates, mixing_rates
from minit5.data.objectives import (bert_style, deshuffle, drop_tokens, iid_noise_mask,
                                    iid_replace_spans, mass_style,
                                    noise_span_to_unique_sentinel,
                                    nonnoise_span_to_unique_sentinel, prefix_lm,
                                    random_spans_helper, random_spans_noise_mask, span_corruption)
from minit5.data.tasks import (LABEL_NAMES, Task, glue_format, label_to_string, lookup_task,
                               pig_latin, pig_latin_task, polarity_task, reverse_task,
                               similarity_task, squad_format, string_to_label, string_to_stsb,
                               stsb_to_string, summarize, synthetic_tasks, translate)
from minit5.data.tokenizer import EOS_ID, PAD_ID, UNK_ID, Tokenizer, train_tokenizer

__all__ = [name for name in dir() if not name.startswith("_")]
