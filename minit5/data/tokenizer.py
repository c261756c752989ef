"""The T5 tokenizer: a SentencePiece model plus T5's special ids and 100 sentinels.

Paper §2.4 ("Input and Output Format"): T5 encodes all text with one SentencePiece vocabulary
of 32,000 wordpieces. The released code (seqio's `SentencePieceVocabulary`, HF's `T5Tokenizer`)
adds three conventions that every T5 checkpoint depends on:

- the SentencePiece model reserves id 0 for `<pad>`, 1 for `</s>` (EOS) and 2 for `<unk>`, and
  has no BOS;
- 100 "extra ids" are appended after the SentencePiece pieces, in reverse, so with N pieces
  `<extra_id_0>` is N + 99 and `<extra_id_99>` is N; the vocabulary the model sees has
  N + 100 entries (32,100 for T5; the checkpoints round the embedding up to 32,128);
- `encode` appends EOS, and the decoder starts from id 0 (the pad id).

The sentinels are what span corruption (§3.1.4, `minit5.data.objectives`) writes into the
inputs and targets. HF's tokenizer also recognises the sentinel strings written in plain text,
so `"The <extra_id_0> walks"` encodes the sentinel as one id; `Tokenizer.encode` does the same.

    tok = Tokenizer("tokenizer/spiece.model")
    tok.encode("Thank you <extra_id_0> me")   # [..., 32099, ..., 1]
    tok.decode([32099, 1])                    # '<extra_id_0>'
"""
import io
import pathlib
import re

import numpy as np
import sentencepiece as spm

from minit5.io.atomic_file import write_bytes

PAD_ID = 0
EOS_ID = 1
UNK_ID = 2
DEFAULT_EXTRA_IDS = 100

_TRAIN_HINT = ("train one with "
               "`minit5 tokenizer train --input corpus.txt --vocab-size 8000 --out DIR`")


def _resolve_model_path(path):
    """A `spiece.model` file, or a folder holding one (the HF checkpoint layout)."""
    path = pathlib.Path(path)
    if path.is_dir():
        path = path / "spiece.model"
    if not path.is_file():
        raise FileNotFoundError(
            f"tokenizer model not found: {path}. Pass the path of a SentencePiece `spiece.model` "
            f"file (or a folder that holds one), or {_TRAIN_HINT}.")
    return path


def check_encodable(text: str, where: str = "the text") -> None:
    """SentencePiece takes UTF-8; refuse a str that has no UTF-8 form, naming the character.

    Such a str holds a lone surrogate (U+D800..U+DFFF): half of a UTF-16 pair, not a character.
    Python makes them from bytes that were not UTF-8 when it decodes with
    errors="surrogateescape", as it does for command-line arguments and file names.
    """
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as e:
        raise ValueError(
            f"{where} cannot be encoded as UTF-8: it holds {text[e.start]!r} at position "
            f"{e.start}, a lone surrogate (half of a UTF-16 pair; bytes that were not UTF-8 "
            "arrive like this). Fix the text's encoding, e.g. decode the bytes with the right "
            "codec") from None


class Tokenizer:
    """SentencePiece + T5 conventions (pad 0, eos 1, unk 2, 100 sentinels at the top).

    Args:
        model_file: path to a SentencePiece model (`spiece.model`) or a folder containing one.
            A released T5 `spiece.model` loads as it is.
        extra_ids: how many sentinels to append (T5: 100).
    """
    pad_id = PAD_ID
    eos_id = EOS_ID
    unk_id = UNK_ID

    def __init__(self, model_file, extra_ids=DEFAULT_EXTRA_IDS):
        path = _resolve_model_path(model_file)
        sp = spm.SentencePieceProcessor()
        try:
            sp.Load(str(path))
        except (OSError, RuntimeError) as err:
            raise ValueError(
                f"could not read the SentencePiece model {path}: {err}. The file is not a "
                f"SentencePiece model or is damaged; pass a valid `spiece.model`, or {_TRAIN_HINT}."
            ) from None
        found = (sp.pad_id(), sp.eos_id(), sp.unk_id())
        if found != (PAD_ID, EOS_ID, UNK_ID):
            raise ValueError(
                f"{path} has pad/eos/unk ids {found}, but T5 needs (0, 1, 2). Retrain it with "
                f"`minit5.data.tokenizer.train_tokenizer` (which sets T5's ids) or {_TRAIN_HINT}.")
        if not isinstance(extra_ids, int) or extra_ids < 0:
            raise ValueError("extra_ids must be a non-negative int (T5 uses 100), "
                             f"got {extra_ids!r}")
        self.path = path
        self.sp = sp
        self.extra_ids = extra_ids
        self.num_pieces = sp.GetPieceSize()
        # The special strings recognised in text, as in HF: pad, eos, unk and the sentinels.
        self._special = {"<pad>": PAD_ID, "</s>": EOS_ID, "<unk>": UNK_ID}
        for i in range(extra_ids):
            self._special[f"<extra_id_{i}>"] = self.sentinel_id(i)
        # Longest first, so "<extra_id_10>" wins over "<extra_id_1>" at the same position.
        names = sorted(self._special, key=len, reverse=True)
        self._special_re = re.compile("|".join(re.escape(n) for n in names))

    @classmethod
    def from_file(cls, path, extra_ids=DEFAULT_EXTRA_IDS):
        """Same as `Tokenizer(path)`; reads as `Tokenizer.from_file("dir/spiece.model")`."""
        return cls(path, extra_ids=extra_ids)

    def __repr__(self):
        return f"Tokenizer({str(self.path)!r}, vocab_size={self.vocab_size})"

    # ---- ids ---------------------------------------------------------------------------------

    @property
    def vocab_size(self):
        """SentencePiece pieces + sentinels (32,100 for T5)."""
        return self.num_pieces + self.extra_ids

    def sentinel_id(self, i):
        """Id of `<extra_id_i>`: `vocab_size - 1 - i` (seqio and HF both count down)."""
        if not 0 <= int(i) < self.extra_ids:
            raise ValueError(f"sentinel index i={i} is out of range: this tokenizer has "
                             f"{self.extra_ids} sentinels, <extra_id_0> .. "
                             f"<extra_id_{self.extra_ids - 1}>")
        return self.vocab_size - 1 - int(i)

    def is_sentinel(self, token_id):
        return self.num_pieces <= token_id < self.vocab_size

    def id_to_piece(self, token_id):
        """The piece string of one id; sentinels read `<extra_id_N>`."""
        token_id = int(token_id)
        if not 0 <= token_id < self.vocab_size:
            raise ValueError(f"token id {token_id} is out of range [0, {self.vocab_size}) "
                             f"for {self!r}")
        if self.is_sentinel(token_id):
            return f"<extra_id_{self.vocab_size - 1 - token_id}>"
        return self.sp.IdToPiece(token_id)

    # ---- text <-> ids ------------------------------------------------------------------------

    def encode(self, text, add_eos=True):
        """Text -> ids, with EOS appended. Special strings in the text (`<extra_id_N>`, `</s>`,
        `<pad>`, `<unk>`) become their ids; the text between them goes through SentencePiece."""
        if not isinstance(text, str):
            raise TypeError(f"encode takes a str, got {type(text).__name__}; "
                            f"for many texts use batch_encode")
        check_encodable(text)
        ids = []
        start = 0
        for match in self._special_re.finditer(text):
            ids += self.sp.EncodeAsIds(text[start:match.start()])
            ids.append(self._special[match.group()])
            start = match.end()
        ids += self.sp.EncodeAsIds(text[start:])
        if add_eos:
            ids.append(EOS_ID)
        return ids

    def decode(self, ids):
        """Ids -> text. Stops at the first EOS, drops pads, shows sentinels as `<extra_id_N>`."""
        pieces = []
        for token_id in np.asarray(ids).reshape(-1).tolist():
            if token_id == EOS_ID:
                break
            if token_id == PAD_ID:
                continue
            pieces.append(self.id_to_piece(token_id))
        # SentencePiece turns the pieces back into text; a sentinel string is kept verbatim.
        return self.sp.DecodePieces(pieces)

    def batch_encode(self, texts, max_length=None, padding="longest", truncation=True):
        """Encode many texts into one padded batch.

        Args:
            texts: list of str.
            max_length: longest row allowed (EOS included); needed for padding="max_length".
            padding: "longest" (pad to the longest row) or "max_length" (pad to max_length).
            truncation: cut rows longer than max_length, keeping the final EOS (as HF does).
        Returns:
            input_ids: int64 (B, L), padded with 0; attention_mask: int64 (B, L), 1 on tokens.
        """
        if isinstance(texts, str):
            raise TypeError("batch_encode takes a list of str; for one text use encode(text)")
        if padding not in ("longest", "max_length"):
            raise ValueError(f'padding must be "longest" or "max_length", got {padding!r}')
        if padding == "max_length" and max_length is None:
            raise ValueError('padding="max_length" needs max_length=...; or use padding="longest"')
        if max_length is not None and max_length < 1:
            raise ValueError(f"max_length must be >= 1 (room for EOS), got {max_length}")
        rows = [self.encode(t) for t in texts]
        if max_length is not None:
            too_long = [i for i, r in enumerate(rows) if len(r) > max_length]
            if too_long and not truncation:
                i = too_long[0]
                raise ValueError(f"text {i} encodes to {len(rows[i])} ids > "
                                 f"max_length={max_length}; "
                                 f"pass truncation=True or a larger max_length")
            rows = [r if len(r) <= max_length else r[:max_length - 1] + [EOS_ID] for r in rows]
        width = max_length if padding == "max_length" else max((len(r) for r in rows), default=0)
        input_ids = np.full((len(rows), width), PAD_ID, dtype=np.int64)   # (B, L)
        attention_mask = np.zeros((len(rows), width), dtype=np.int64)     # (B, L)
        for b, row in enumerate(rows):
            input_ids[b, :len(row)] = row
            attention_mask[b, :len(row)] = 1
        return input_ids, attention_mask


def train_tokenizer(texts, vocab_size, path, character_coverage=1.0, max_sentence_length=1 << 16,
                    hard_vocab_limit=True):
    """Train a SentencePiece unigram model with T5's special ids; write it to `path`.

    Like T5's `spiece.model`: unigram language model (Kudo 2018), NFKC normalisation, pad 0
    (`<pad>`), eos 1 (`</s>`), unk 2 (`<unk>`), no BOS. Training is offline and deterministic:
    every sentence is used (no sampling) on one thread, so the same texts give the same bytes.

    Args:
        texts: iterable of str, each one "sentence" (a line or a short document); blank ones
            are skipped.
        vocab_size: number of SentencePiece pieces, the 3 special ones included. The
            `Tokenizer` built on it has `vocab_size + 100` ids (the sentinels).
        path: the file to write, e.g. "tok/spiece.model" (folders are created).
        character_coverage: share of characters the model must cover (1.0 keeps every
            character seen; T5's multilingual corpus used slightly less).
        hard_vocab_limit: if False, a corpus too small for `vocab_size` gives a smaller model
            instead of an error.
    Returns:
        the `Tokenizer` on the new model.
    """
    if not isinstance(vocab_size, int) or vocab_size < 4:
        raise ValueError("vocab_size must be an int >= 4 (3 special pieces + text), "
                         f"got {vocab_size!r}")
    sentences = [t.strip() for t in texts if t and t.strip()]
    for i, sentence in enumerate(sentences):
        check_encodable(sentence, f"training text {i}")
    if not sentences:
        raise ValueError("train_tokenizer got no text: pass an iterable of non-empty strings")
    path = pathlib.Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    options = dict(
        model_type="unigram", vocab_size=vocab_size, character_coverage=character_coverage,
        pad_id=PAD_ID, eos_id=EOS_ID, unk_id=UNK_ID, bos_id=-1,
        pad_piece="<pad>", eos_piece="</s>", unk_piece="<unk>",
        normalization_rule_name="nmt_nfkc", num_threads=1, input_sentence_size=0,
        shuffle_input_sentence=False, max_sentence_length=max_sentence_length,
        hard_vocab_limit=hard_vocab_limit, minloglevel=2,
    )
    model = io.BytesIO()   # written to disk only once training succeeded
    try:
        spm.SentencePieceTrainer.Train(sentence_iterator=iter(sentences), model_writer=model,
                                       **options)
    except RuntimeError as err:
        limit = re.search(r"<= (\d+)", str(err))
        if limit:
            raise ValueError(
                f"vocab_size={vocab_size} is too large for this text: SentencePiece can make "
                f"at most {limit.group(1)} pieces from it. Lower vocab_size, give more text, "
                f"or pass hard_vocab_limit=False.") from None
        raise ValueError(f"SentencePiece training failed: {err}") from None
    write_bytes(path, model.getvalue())      # atomically: never half a model at `path`
    return Tokenizer(path)
