"""Measures of a pre-training corpus (paper §3.4): how close it is to the downstream text, how
often a budget shows each piece of it, and how much text two corpora share.

§3.4.1 finds that pre-training on text of the downstream tasks' domain helps those tasks, and
§3.4.2 that a corpus small enough to be repeated many times hurts. These functions put numbers
on both for corpora that fit in memory:

  unigram_cross_entropy  bits per word of some text under a corpus's add-alpha unigram model;
                         the lower, the more the corpus's words are the text's words
  repeat_profile         when each batch row is one piece drawn uniformly with replacement from
                         N pieces (as `minit5.train.streams` draws them), the expected share of
                         the pieces drawn exactly k times
  shared_spans           the spans of three consecutive sentences (C4's deduplication unit,
                         §2.2) of one corpus that also occur in another

Words are the lower-case alphabetic runs of `minit5.data.corpus.lower_words`, sentences those
of `minit5.data.cleaning.split_sentences`.
"""
from __future__ import annotations

import collections
import math

import numpy as np

from minit5.data.cleaning import DEDUP_SPAN, split_sentences
from minit5.data.corpus import lower_words


def _pages(value, name: str) -> list:
    if isinstance(value, str):
        raise TypeError(f"{name} must be a list of texts, got one string; write [{name}] for "
                        f"a single text")
    return list(value)


def unigram_cross_entropy(pages, sentences, alpha: float = 1.0) -> float:
    """Mean -log2 p(w) over the words w of `sentences`, p the corpus's smoothed unigram model.

    With c(w) the count of word w in `pages`, N the number of words there and V the number of
    distinct words plus one (every word the corpus lacks shares that one extra slot),
    p(w) = (c(w) + alpha) / (N + alpha * V): add-alpha (Laplace for alpha = 1) smoothing, a
    distribution over the V slots.
    """
    pages, sentences = _pages(pages, "pages"), _pages(sentences, "sentences")
    if not alpha > 0:
        raise ValueError(f"alpha must be positive (1 is Laplace smoothing), got {alpha!r}")
    counts = collections.Counter(w for page in pages for w in lower_words(page))
    total = sum(counts.values())
    if total == 0:
        raise ValueError("the corpus `pages` has no words: a unigram model needs some text")
    text = [w for sentence in sentences for w in lower_words(sentence)]
    if not text:
        raise ValueError("`sentences` have no words to score")
    denominator = total + alpha * (len(counts) + 1)
    return float(np.mean([-math.log2((counts[w] + alpha) / denominator) for w in text]))


def repeat_profile(num_pieces: int, draws: int, max_count: int) -> np.ndarray:
    """Expected share of `num_pieces` pieces drawn exactly k times, k = 0..max_count, by
    `draws` uniform draws with replacement: the Binomial(draws, 1 / num_pieces) probabilities
    (float64, shape (max_count + 1,)), computed through their logarithms so that 12,800 draws
    do not overflow. k = 0 is the share never seen; the mean count is draws / num_pieces."""
    for name, value, least in (("num_pieces", num_pieces, 1), ("draws", draws, 0),
                               ("max_count", max_count, 0)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < least:
            raise ValueError(f"{name} must be a whole number >= {least}, got {value!r}")
    k = np.arange(max_count + 1)
    if num_pieces == 1:                           # every draw takes the only piece
        return (k == draws).astype(np.float64)
    p = 1.0 / num_pieces
    out = np.zeros(max_count + 1)
    for i in range(min(max_count, draws) + 1):
        log_choose = math.lgamma(draws + 1) - math.lgamma(i + 1) - math.lgamma(draws - i + 1)
        out[i] = math.exp(log_choose + i * math.log(p) + (draws - i) * math.log1p(-p))
    return out


def _spans(page: str, span: int) -> set:
    sentences = [s for line in page.split("\n") for s in split_sentences(line)]
    return {tuple(sentences[i:i + span]) for i in range(len(sentences) - span + 1)}


def shared_spans(pages, other_pages, span: int = DEDUP_SPAN) -> list:
    """The distinct runs of `span` consecutive sentences of `other_pages` that also occur in
    `pages`, sorted. A run lies inside one page (its lines' sentences in order) and never
    crosses from one page into the next, as in C4's deduplication."""
    pages, other_pages = _pages(pages, "pages"), _pages(other_pages, "other_pages")
    if isinstance(span, bool) or not isinstance(span, int) or span < 1:
        raise ValueError(f"span must be a whole number of sentences >= 1, got {span!r}")
    seen = set().union(*(_spans(page, span) for page in pages))
    found = set().union(*(_spans(page, span) for page in other_pages))
    return sorted(found & seen)
