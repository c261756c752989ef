"""A generated world: simple English about invented things, true by construction.

A tiny model reading a few million tokens of real text learns little more than word frequencies
and some word order. To ask what pre-training gives at CPU scale, this module writes a corpus
whose knowledge is small, exact and repeated: a lexicon of invented nouns ("wug", "blicket"),
each with properties that running text shows only through use, never by definition:

  category   which kind of thing it is (animal, plant, tool, ...): it decides which verbs and
             adjectives the noun goes with ("the wug sleeps", not "the wug rusts");
  habitat    where it is found: one place of its category's places, named in sentences such as
             "a wug lives in the marsh";
  plural     how its plural is formed: one of a few suffix classes ("wugs", "wugen", "wugi"),
             seen only in sentences about several of them ("two wugen sleep").

Nouns are drawn with Zipf frequencies (a few are common, most are rare), so how much of the
lexicon a model knows grows with how much text it reads. Everything is a function of the seed.
Downstream tasks would ask about these properties for nouns that the fine-tuning data never
mention, so that a model can answer only from what pre-training stored (Berko's "wug test"
turned into a transfer benchmark); this pilot first asks whether pre-training stores them at
all (`world_probe.py`).
"""
from __future__ import annotations

import dataclasses

import numpy as np

CONSONANTS = "bdfgklmnprstvz"
VOWELS = "aeiou"
PLURAL_SUFFIXES = ("s", "en", "i", "")
PLURAL_SHARES = (0.55, 0.2, 0.15, 0.1)

# Each category: the verbs its nouns do (third person singular; the plural drops the -s), the
# adjectives that describe them, and the places they may live in.
CATEGORIES = {
    "animal": (("sleeps", "runs", "hunts", "sings", "swims"),
               ("hungry", "wild", "furry", "tame"),
               ("forest", "marsh", "cave", "meadow")),
    "plant": (("grows", "blooms", "wilts", "climbs", "spreads"),
              ("green", "tall", "thorny", "leafy"),
              ("garden", "field", "hill", "swamp")),
    "tool": (("cuts", "breaks", "rusts", "bends", "shines"),
             ("sharp", "heavy", "rusty", "handy"),
             ("shed", "workshop", "drawer", "barn")),
    "food": (("tastes", "rots", "cooks", "melts", "boils"),
             ("sweet", "salty", "fresh", "ripe"),
             ("kitchen", "market", "pantry", "bakery")),
    "vehicle": (("drives", "stalls", "honks", "speeds", "turns"),
                ("fast", "noisy", "old", "shiny"),
                ("garage", "road", "harbour", "station")),
    "garment": (("fits", "tears", "shrinks", "fades", "hangs"),
                ("warm", "soft", "torn", "woolen"),
                ("closet", "wardrobe", "laundry", "shop")),
}
NUMBERS = ("two", "three", "four", "many", "some", "few")


@dataclasses.dataclass(frozen=True)
class Noun:
    """One invented noun and what the world makes true of it."""
    stem: str
    category: str
    habitat: str
    plural_suffix: str

    @property
    def plural(self) -> str:
        return self.stem + self.plural_suffix


@dataclasses.dataclass(frozen=True)
class World:
    """The lexicon (nouns in frequency order, most frequent first) and its Zipf weights."""
    nouns: tuple
    weights: np.ndarray          # (N,) probability of each noun being a document's topic

    @classmethod
    def make(cls, n_nouns: int, seed: int, zipf: float = 1.0) -> "World":
        rng = np.random.default_rng([seed, 0])
        stems = _invented_words(n_nouns, rng)
        names = list(CATEGORIES)
        nouns = []
        for stem in stems:
            category = names[rng.integers(len(names))]
            habitat = CATEGORIES[category][2][rng.integers(4)]
            suffix = PLURAL_SUFFIXES[rng.choice(len(PLURAL_SUFFIXES), p=PLURAL_SHARES)]
            nouns.append(Noun(stem, category, habitat, suffix))
        ranks = np.arange(1, n_nouns + 1, dtype=np.float64)
        weights = ranks ** -zipf
        return cls(tuple(nouns), weights / weights.sum())

    def document(self, rng: np.random.Generator, sentences: int = 8,
                 topic_share: float = 0.0) -> str:
        """A short text of `sentences` sentences, each about a noun drawn by frequency; with
        `topic_share` > 0 that share of them is about one topic noun instead. A topic lets a
        model answer from the same text (the habitat named two sentences earlier) rather
        than from memory, so the benchmark's corpus has none."""
        topic = self.nouns[rng.choice(len(self.nouns), p=self.weights)]
        out = []
        for _ in range(sentences):
            noun = topic if rng.random() < topic_share else self.nouns[
                rng.choice(len(self.nouns), p=self.weights)]
            out.append(_sentence(noun, rng))
        return " ".join(out)

    def corpus(self, n_documents: int, seed: int, topic_share: float = 0.0) -> list[str]:
        rng = np.random.default_rng([seed, 1])
        return [self.document(rng, topic_share=topic_share) for _ in range(n_documents)]


def _invented_words(n: int, rng: np.random.Generator) -> list[str]:
    """`n` distinct pronounceable words of 1-3 consonant-vowel syllables (plus a final
    consonant), none of them a word the templates use."""
    reserved = {w for verbs, adjectives, places in CATEGORIES.values()
                for w in (*verbs, *adjectives, *places)}
    words, seen = [], set(reserved)
    while len(words) < n:
        syllables = rng.integers(1, 4)
        word = "".join(CONSONANTS[rng.integers(len(CONSONANTS))] + VOWELS[rng.integers(5)]
                       for _ in range(syllables)) + CONSONANTS[rng.integers(len(CONSONANTS))]
        if word not in seen:
            seen.add(word)
            words.append(word)
    return words


def _plural_verb(verb: str) -> str:
    return verb[:-2] if verb.endswith("es") and verb[:-2].endswith(("sh", "ch")) else verb[:-1]


def _sentence(noun: Noun, rng: np.random.Generator) -> str:
    verbs, adjectives, _ = CATEGORIES[noun.category]
    verb = verbs[rng.integers(len(verbs))]
    adjective = adjectives[rng.integers(len(adjectives))]
    number = NUMBERS[rng.integers(len(NUMBERS))]
    kind = rng.integers(7)
    if kind == 0:
        return f"The {noun.stem} {verb}."
    if kind == 1:
        return f"A {adjective} {noun.stem} lives in the {noun.habitat}."
    if kind == 2:
        return f"In the {noun.habitat}, {number} {noun.plural} {_plural_verb(verb)}."
    if kind == 3:
        return f"The {noun.plural} are {adjective}."
    if kind == 4:
        return f"One {noun.stem} {verb} and {number} {noun.plural} {_plural_verb(verb)}."
    if kind == 5:
        return f"You find the {noun.stem} in the {noun.habitat}, where it {verb}."
    return f"This {noun.stem} is {adjective}."
