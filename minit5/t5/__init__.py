"""The T5 model: config, relative position buckets, attention, FFN, stacks, checkpoints.

§3.2's five architectures (Table 2) are built by `minit5.t5.architectures.build_architecture`;
`minit5.data.model_batches.collate_examples` makes the batch each of them reads."""
from minit5.labels import shift_right
from minit5.t5.config import PRESETS, T5Config
from minit5.t5.decoder_only import DecoderOnlyOutput, T5DecoderOnlyModel
from minit5.t5.model import (
    EncoderOutput,
    Seq2SeqLMOutput,
    T5EncoderModel,
    T5ForConditionalGeneration,
)
from minit5.t5.position import relative_position_bucket

__all__ = ["T5Config", "PRESETS", "T5ForConditionalGeneration", "T5EncoderModel",
           "Seq2SeqLMOutput", "EncoderOutput", "shift_right", "relative_position_bucket",
           "T5DecoderOnlyModel", "DecoderOnlyOutput"]
