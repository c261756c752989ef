"""The T5 model: config, relative position buckets, attention, FFN, stacks, checkpoints."""
from minit5.labels import shift_right
from minit5.t5.config import PRESETS, T5Config
from minit5.t5.model import (EncoderOutput, Seq2SeqLMOutput, T5EncoderModel,
                             T5ForConditionalGeneration)
from minit5.t5.position import relative_position_bucket

__all__ = ["T5Config", "PRESETS", "T5ForConditionalGeneration", "T5EncoderModel",
           "Seq2SeqLMOutput", "EncoderOutput", "shift_right", "relative_position_bucket"]
