"""Golden tokenizer fixture: a small SentencePiece model and what HF's T5Tokenizer makes of it.

`make(out_dir)` trains a unigram model with `minit5.data.tokenizer.train_tokenizer` on the
built-in text below (deterministic), saves `out_dir/tokenizer/spiece.model`, loads that folder
with `transformers.T5Tokenizer.from_pretrained(folder, extra_ids=100)` and writes, for every
string in CASES, HF's ids (and its decoding of them) to `out_dir/tokenizer/reference.json`.
Needs transformers (+ protobuf, which HF uses to read a spiece.model).
"""
import json
import pathlib

import numpy as np

from minit5.data.tokenizer import train_tokenizer

VOCAB_SIZE = 200

SEED_SENTENCES = [
    "The cat sat on the mat and looked at the garden.",
    "Transfer learning has become a powerful technique in natural language processing.",
    "We train every model with the same objective, loss and decoding procedure.",
    "Thank you for inviting me to your party last week.",
    "Is the weather in Paris better than in London?",
    "She bought 3 apples, 12 pears and 7 lemons for $4.50!",
    "translate English to German: That is good.",
    "summarize: the state authorities dispatched emergency crews on Tuesday.",
    "cola sentence: The course is jumping well.",
    "mnli hypothesis: The dog barked. premise: A dog made a loud noise.",
    "Numbers like 2019, 512 and 32,000 appear in the paper.",
    "Le café est très bon, naïve résumé über straße.",
    "Das Haus ist groß und die Straße ist schön.",
    "東京は日本の首都です。",
    "Emoji such as 🙂 and 🚀 show up on the web.",
    "Quotes \"like this\" and 'like that' (with brackets) [and more] - dashes; colons: yes.",
]

# Strings whose ids are compared: plain text, sentinels written in text, unicode and NFKC
# cases, whitespace edge cases, characters the model never saw, and special-token look-alikes.
CASES = [
    "", " ", "   ", "\t", "\n", "The cat sat on the mat.", "  The   cat\tsat\non  the mat.  ",
    "Thank you <extra_id_0> me to your party <extra_id_1> week.",
    "<extra_id_0> for inviting <extra_id_1> last <extra_id_2>",
    "<extra_id_0>", "<extra_id_99>", "<extra_id_10>", "<extra_id_1>0", "<extra_id_100>",
    "<extra_id_01>", "<extra_id_-1>", "<EXTRA_ID_0>", "<extra_id_0", "<<extra_id_0>>",
    "word<extra_id_5>word", "word <extra_id_5> word", " <extra_id_7> ", "<extra_id_3><extra_id_4>",
    "</s>", "<pad>", "<unk>", "The </s> end", "a<pad>b",
    "translate English to German: That is good.", "summarize: state authorities",
    "café naïve résumé über straße", "東京", "日本の首都", "🙂", "🚀🚀", "ＡＢＣ", "ﬁne", "①②③",
    "㍻",
    "ｶﾀｶﾅ", "Ⅻ", "𝐀𝐁𝐂", "e\u0301", "\u00e9", "a\u00a0b", "\u3000The\u3000cat\u3000",
    "zero\u200bwidth", "line\r\nbreak", "tab\tseparated\tvalues", "x y z", "zzz qqq", "ǅ", "\x00",
    "$4.50!", "32,000", "(brackets) [square] {curly}", "\"quoted\" 'single'", "...", "…",
    "UPPER lower MiXeD", "The" * 40, " ".join(["word"] * 50),
]


def corpus():
    """The training text: the seed sentences, then 3,000 lines of their words reshuffled."""
    rng = np.random.default_rng(0)
    words = " ".join(SEED_SENTENCES).split()
    lines = list(SEED_SENTENCES)
    for _ in range(3000):
        lines.append(" ".join(rng.choice(words, size=int(rng.integers(4, 18)))))
    return lines


def make(out_dir):
    import sentencepiece
    import transformers
    try:
        import google.protobuf  # noqa: F401  (HF reads spiece.model with it)
    except ImportError:
        raise ImportError("transformers needs protobuf to read a spiece.model: "
                          "pip install protobuf (part of the golden extra)") from None

    folder = pathlib.Path(out_dir) / "tokenizer"
    folder.mkdir(parents=True, exist_ok=True)
    train_tokenizer(corpus(), VOCAB_SIZE, folder / "spiece.model")
    hf = transformers.T5Tokenizer.from_pretrained(str(folder), extra_ids=100)
    cases = []
    for text in CASES:
        ids = hf(text)["input_ids"]
        decoded = hf.decode(ids[:-1], skip_special_tokens=False, clean_up_tokenization_spaces=False)
        cases.append({"text": text, "ids": ids, "hf_decode": decoded})
    reference = {
        "about": "ids from transformers.T5Tokenizer.from_pretrained(folder, extra_ids=100)(text); "
                 "hf_decode = decode(ids[:-1], skip_special_tokens=False, "
                 "clean_up_tokenization_spaces=False)",
        "transformers_version": transformers.__version__,
        "sentencepiece_version": sentencepiece.__version__,
        "tokenizer_class": type(hf).__name__,
        "vocab_size": len(hf),
        "cases": cases,
    }
    with open(folder / "reference.json", "w", encoding="utf-8") as f:
        json.dump(reference, f, ensure_ascii=False, indent=1)
    return folder
