"""Modules: parameters with checkpoint names, and the layers T5 is built from."""
from minit5.nn.layers import Dropout, Embedding, Linear, T5LayerNorm
from minit5.nn.module import Module, ModuleList, Parameter, trainable_parameters

__all__ = ["Module", "ModuleList", "Parameter", "Linear", "Embedding", "T5LayerNorm", "Dropout",
           "trainable_parameters"]
