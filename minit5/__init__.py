"""minit5: T5 rebuilt from scratch on NumPy and CuPy, to be read.

    from minit5 import Tensor, no_grad, T5Config, T5ForConditionalGeneration
"""
from minit5.autograd import Tensor, no_grad

__version__ = "0.1.0"


def __getattr__(name):
    # The model classes load lazily so that `import minit5` stays light.
    if name in ("T5Config", "T5ForConditionalGeneration", "T5EncoderModel"):
        from minit5 import t5
        return getattr(t5, name)
    raise AttributeError(f"module 'minit5' has no attribute {name!r}")


__all__ = ["Tensor", "no_grad", "T5Config", "T5ForConditionalGeneration", "T5EncoderModel"]
