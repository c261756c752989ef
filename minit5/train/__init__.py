"""Training: configs, data streams, the trainer loop, checkpoints, evaluation, the pipeline."""
from minit5.train.config import PRESETS, TrainConfig, apply_overrides
from minit5.train.trainer import NonFiniteLoss, Trainer, make_schedule

__all__ = ["TrainConfig", "PRESETS", "apply_overrides", "Trainer", "NonFiniteLoss",
           "make_schedule"]
