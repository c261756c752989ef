"""A generated world: simple English about invented things, true by construction.

A tiny model that reads a few million tokens of real text learns little more than word
frequencies and some word order, so a benchmark made of real text cannot see what pre-training
changes at CPU scale. This module writes a corpus whose knowledge is small, exact and repeated:
a lexicon of invented nouns ("dax", "wugen"), each with three properties that the text shows
and that a model can know only by reading it:

  category  which kind of thing it is (an animal, a plant, a tool, ...). The text states it in
            two phrasings ("The dax is a kind of animal.", "Like all animals, the daxi
            sleep.") and shows it through use: each category has its own verbs and
            adjectives ("the dax sleeps", never "the dax rusts").
  plural    how its plural is formed, in one of two morphologies:
            "suffix" (the first designs'): one of four suffix classes ("dax" -> "daxi",
            "daxen", "daxs", "daxa"). Stems end in the same suffixes ("moli" is a stem, "moli"
            + "en" its plural), so a form's letters tell little about its number; but a
            tokenizer trained on the corpus keeps each stem whole and writes a plural as the
            stem's piece and a suffix piece, so the number of pieces shows it
            (`minit5.experiments.world_spelling` measures this).
            "endings": a base and two different final vowels, one for the singular and one
            for the plural ("daxo" -> "daxi", "kimu" -> "kima"), every vowel equally likely
            in each role, so both forms have the same shape and neither letters nor pieces
            tell the number; the plural is one of the four other vowels.
            Either way, which forms are plural is a fact of the lexicon, seen only where a
            number word or a verb shows it ("two daxi sleep", "the daxi sleep").
  habitat   where it lives: one of its category's four places ("a dax lives in the marsh").

Nouns are drawn with Zipf frequencies (rank r has weight r^-zipf): a few are common, most are
rare, so how much of the lexicon a model knows grows with how much text it reads. Each
sentence is about a noun drawn afresh, so a document never answers a question about its own
nouns: what a model knows of a noun comes from every sentence about it it has read.

Everything is a function of the seed: `World.make(n_nouns, seed)` draws the lexicon and
`World.corpus(n_documents, seed)` the text. The tasks built on the world are in
`minit5.data.world_tasks`.
"""
from __future__ import annotations

import dataclasses

import numpy as np

CONSONANTS = "bdfgklmnprtvz"           # no "s": a final "s" is always a suffix
VOWELS = "aeiou"
PLURAL_SUFFIXES = ("i", "en", "s", "a")
ENDINGS = ("a", "e", "i", "o", "u")      # the "endings" morphology's final vowels
MORPHOLOGIES = ("suffix", "endings")
# How many plural-like endings a stem has: 0, 1 or 2 (with these probabilities).
STEM_ENDINGS = (0.3, 0.4, 0.3)

# category -> (its plural, verbs (third person singular), adjectives, places)
CATEGORIES = {
    "animal": ("animals", ("sleeps", "runs", "hunts", "sings", "swims"),
               ("hungry", "wild", "furry", "tame"), ("forest", "marsh", "cave", "meadow")),
    "plant": ("plants", ("grows", "blooms", "wilts", "climbs", "spreads"),
              ("green", "tall", "thorny", "leafy"), ("garden", "field", "hill", "swamp")),
    "tool": ("tools", ("cuts", "breaks", "rusts", "bends", "shines"),
             ("sharp", "heavy", "rusty", "handy"), ("shed", "workshop", "drawer", "barn")),
    "fruit": ("fruits", ("ripens", "rots", "falls", "swells", "drops"),
              ("sweet", "sour", "juicy", "ripe"), ("kitchen", "market", "pantry", "orchard")),
    "vehicle": ("vehicles", ("drives", "stalls", "honks", "speeds", "turns"),
                ("fast", "noisy", "old", "shiny"), ("garage", "road", "harbour", "station")),
    "garment": ("garments", ("fits", "tears", "shrinks", "fades", "hangs"),
                ("warm", "soft", "torn", "woolen"), ("closet", "wardrobe", "laundry", "shop")),
}
NUMBERS = ("two", "three", "four", "many", "some", "few")


def plural_verb(verb: str) -> str:
    """The verb after a plural subject: "sleeps" -> "sleep"."""
    return verb[:-1]


@dataclasses.dataclass(frozen=True)
class Noun:
    """One invented noun and what the world makes true of it. `stem` is its singular; its
    plural is `base + plural_suffix`, where `base` is the stem itself in the "suffix"
    morphology and the stem without its final vowel in the "endings" one."""
    stem: str
    category: str
    habitat: str
    plural_suffix: str
    base: str = ""               # "endings" morphology only

    @property
    def plural(self) -> str:
        return (self.base or self.stem) + self.plural_suffix

    @property
    def plural_candidates(self) -> tuple:
        """The four forms its morphology allows for its plural (the plural among them), in
        a fixed order: the stem with each suffix, or the base with each other vowel."""
        if self.base:
            return tuple(self.base + e for e in ENDINGS if self.base + e != self.stem)
        return tuple(self.stem + s for s in PLURAL_SUFFIXES)

    def form(self, plural: bool) -> str:
        return self.plural if plural else self.stem


@dataclasses.dataclass(frozen=True)
class World:
    """The lexicon, most frequent noun first, and each noun's probability of being the subject
    of a sentence."""
    nouns: tuple
    weights: np.ndarray          # (N,) Zipf weights, summing to 1

    @classmethod
    def make(cls, n_nouns: int, seed: int, zipf: float = 1.0,
             morphology: str = "suffix") -> "World":
        """`n_nouns` nouns with categories, habitats and plural classes drawn uniformly, and
        Zipf weights of exponent `zipf` in rank order; `morphology` "suffix" or "endings"
        (module docstring)."""
        if not isinstance(n_nouns, (int, np.integer)) or n_nouns < 8:
            raise ValueError(f"World.make: n_nouns must be an int >= 8 (the benchmark uses a "
                             f"few hundred), got {n_nouns!r}")
        if not zipf >= 0:
            raise ValueError(f"World.make: zipf must be >= 0 (0: every noun equally common, "
                             f"1: Zipf's law), got {zipf!r}")
        if morphology not in MORPHOLOGIES:
            raise ValueError(f"World.make: morphology must be one of {MORPHOLOGIES}, got "
                             f"{morphology!r}")
        rng = np.random.default_rng([seed, 0])
        names = list(CATEGORIES)
        nouns, taken = [], set(_reserved_words())
        while len(nouns) < n_nouns:
            if morphology == "suffix":
                stem, base = _invented_stem(rng), ""
                suffix = PLURAL_SUFFIXES[rng.integers(len(PLURAL_SUFFIXES))]
            else:
                base = _invented_base(rng)
                singular, suffix = (ENDINGS[i] for i in rng.choice(len(ENDINGS), 2,
                                                                   replace=False))
                stem = base + singular
            plural = (base or stem) + suffix
            if stem in taken or plural in taken or (base and base in taken):
                continue                                   # every form names one noun
            taken.update((stem, plural) + ((base,) if base else ()))
            category = names[rng.integers(len(names))]
            habitat = CATEGORIES[category][3][rng.integers(4)]
            nouns.append(Noun(stem, category, habitat, suffix, base))
        weights = np.arange(1, n_nouns + 1, dtype=np.float64) ** -float(zipf)
        return cls(tuple(nouns), weights / weights.sum())

    def draw(self, rng: np.random.Generator, pool=None) -> Noun:
        """A noun drawn by frequency, from `pool` (indices into `nouns`) if given."""
        if pool is None:
            return self.nouns[rng.choice(len(self.nouns), p=self.weights)]
        pool = np.asarray(pool)
        p = self.weights[pool] / self.weights[pool].sum()
        return self.nouns[pool[rng.choice(len(pool), p=p)]]

    def document(self, rng: np.random.Generator, sentences: int = 8) -> str:
        """A short text of `sentences` sentences, each about a noun drawn by frequency."""
        return " ".join(sentence(self.draw(rng), rng) for _ in range(sentences))

    def corpus(self, n_documents: int, seed: int) -> list[str]:
        """`n_documents` documents of 8 sentences, a function of `seed`."""
        rng = np.random.default_rng([seed, 1])
        return [self.document(rng) for _ in range(n_documents)]


def sentence(noun: Noun, rng: np.random.Generator) -> str:
    """One sentence of the corpus about `noun`: each kind shows some of its properties."""
    plural_name, verbs, adjectives, _ = CATEGORIES[noun.category]
    verb = verbs[rng.integers(len(verbs))]
    adjective = adjectives[rng.integers(len(adjectives))]
    number = NUMBERS[rng.integers(len(NUMBERS))]
    kind = rng.integers(10)
    if kind == 0:
        return f"The {noun.stem} {verb}."
    if kind == 1:
        return f"The {noun.plural} {plural_verb(verb)}."
    if kind == 2:
        return f"One {noun.stem} {verb} and {number} {noun.plural} {plural_verb(verb)}."
    if kind == 3:
        return f"In the {noun.habitat}, {number} {noun.plural} {plural_verb(verb)}."
    if kind == 4:
        return f"A {adjective} {noun.stem} lives in the {noun.habitat}."
    if kind == 5:
        return f"The {noun.stem} is a kind of {noun.category}."
    if kind == 6:
        return f"Like all {plural_name}, the {noun.plural} {plural_verb(verb)}."
    if kind == 7:
        return f"This {noun.stem} is {adjective}."
    if kind == 8:
        return f"The {noun.plural} are {adjective}."
    return f"You find the {noun.stem} in the {noun.habitat}, where it {verb}."


def _reserved_words() -> set:
    return {w for plural, verbs, adjectives, places in CATEGORIES.values()
            for w in (plural, *verbs, *adjectives, *places)} | set(CATEGORIES) | set(NUMBERS)


def _invented_base(rng: np.random.Generator) -> str:
    """1-2 consonant-vowel syllables and a final consonant ("padok")."""
    return "".join(CONSONANTS[rng.integers(len(CONSONANTS))] + VOWELS[rng.integers(5)]
                   for _ in range(rng.integers(1, 3))) + CONSONANTS[rng.integers(len(CONSONANTS))]


def _invented_stem(rng: np.random.Generator) -> str:
    """A base ("padok"), then 0, 1 or 2 of the plural suffixes ("padoki", "padokena"): a
    plural is a stem with one more suffix, so how many suffix-like endings a form has does
    not tell its number either."""
    base = _invented_base(rng)
    endings = rng.choice(3, p=STEM_ENDINGS)
    return base + "".join(PLURAL_SUFFIXES[rng.integers(len(PLURAL_SUFFIXES))]
                          for _ in range(endings))
