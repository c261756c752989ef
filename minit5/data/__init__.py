"""Data for T5: tokenizer, C4 cleaning, corpora, pre-training objectives, text-to-text tasks,
mixing, and batching/packing. NumPy and sentencepiece only; randomness is always an explicit
numpy Generator.

    from minit5.data import random_spans_noise_mask, random_spans_helper, span_corruption
"""
from minit5.data.batching import IGNORE_INDEX, Batch, collate, pack, pad_sequences, shift_right
from minit5.data.benchmark_scores import benchmark_average, glue_average, superglue_average
from minit5.data.chunking import full_lm, select_random_chunk, split_tokens
from minit5.data.cleaning import (
    CleaningReport,
    SpanDeduplicator,
    clean_corpus,
    clean_pages,
    count_sentences,
    langdetect_filter,
    load_bad_words,
    split_sentences,
)
from minit5.data.corpus import (
    CorpusFormatError,
    CorpusStats,
    builtin_corpus,
    corpus_stats,
    corpus_vocabulary,
    read_corpus,
    read_jsonl,
    read_txt,
)
from minit5.data.metrics import (
    METRICS,
    accuracy,
    average_ranks,
    bleu,
    exact_match,
    f1_with_invalid,
    get_metric,
    matthews_corrcoef,
    mean_multiclass_f1,
    normalize_squad,
    pearson,
    rouge,
    spearman,
    token_f1,
)
from minit5.data.mixing import MixtureSampler, empirical_rates, mixing_rates
from minit5.data.objectives import (
    OBJECTIVES,
    bert_style,
    deshuffle,
    drop_tokens,
    iid_denoising,
    iid_noise_mask,
    iid_replace_spans,
    lm,
    make_objective,
    mass_style,
    noise_span_to_unique_sentinel,
    nonnoise_span_to_unique_sentinel,
    prefix_lm,
    random_prefix_noise_mask,
    random_spans_helper,
    random_spans_noise_mask,
    span_corruption,
)
from minit5.data.packing_lm import DecoderOnlyBatch, pack_decoder_only
from minit5.data.task_files import TaskFileError, read_task_file
from minit5.data.tasks import (
    LABEL_NAMES,
    Task,
    glue,
    glue_format,
    label_to_string,
    lookup_task,
    pad_punctuation,
    pig_latin,
    pig_latin_task,
    polarity_task,
    reverse_task,
    similarity_task,
    squad_format,
    string_to_label,
    string_to_stsb,
    stsb_to_string,
    summarize,
    synthetic_tasks,
    translate,
)
from minit5.data.tokenizer import EOS_ID, PAD_ID, UNK_ID, Tokenizer, train_tokenizer

__all__ = [name for name in dir() if not name.startswith("_")]
