"""ByT5's byte ids: UTF-8 bytes + 3, EOS appended, and back."""
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from minit5.reference.byte_tokenizer import BYT5_VOCAB_SIZE, byt5_decode, byt5_encode


def test_ascii_and_multibyte_worked_examples():
    # "h" is byte 104 -> id 107; "é" is the two bytes 0xC3 0xA9 -> 198, 172.
    assert byt5_encode("hi").tolist() == [107, 108, 1]
    assert byt5_encode("é").tolist() == [0xC3 + 3, 0xA9 + 3, 1]
    assert byt5_encode("").tolist() == [1]
    assert byt5_encode("hi").dtype == np.int64
    assert BYT5_VOCAB_SIZE == 384


@given(st.text())
def test_decode_inverts_encode_and_ids_stay_in_the_byte_range(text):
    ids = byt5_encode(text)
    assert byt5_decode(ids) == text
    assert ids[-1] == 1 and (ids[:-1] >= 3).all() and (ids[:-1] < 259).all()
    assert len(ids) == len(text.encode("utf-8")) + 1


def test_decode_drops_special_and_sentinel_ids_and_replaces_broken_utf8():
    assert byt5_decode(np.array([0, 107, 2, 108, 1, 383])) == "hi"
    assert byt5_decode(np.array([0xC3 + 3])) == "\ufffd"        # half of a two-byte letter


def test_bad_inputs_name_the_fix():
    with pytest.raises(TypeError, match="decode bytes to text"):
        byt5_encode(b"hi")
    with pytest.raises(ValueError, match="1-D array of integer ids"):
        byt5_decode(np.zeros((2, 2), dtype=np.int64))
