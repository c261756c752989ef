"""`Module` and `Parameter`: a tree of layers whose dotted parameter names are the checkpoint keys.

A module registers every `Parameter` and sub-`Module` assigned to it as an attribute, in order.
`named_parameters()` walks the tree and yields each parameter once (a module reached twice, like
T5's shared embedding, is named where it is first met: `shared.weight`), so the names ARE the
Hugging Face state-dict keys and `from_pretrained` is a loop.
"""
from __future__ import annotations

import contextlib
from collections import OrderedDict

import numpy as np

from minit5 import backend
from minit5.autograd.tensor import Tensor


class Parameter(Tensor):
    """A Tensor that is a model weight: it requires grad and is found by named_parameters()."""

    def __init__(self, data, requires_grad: bool = True):
        super().__init__(data, requires_grad=requires_grad)

    def __repr__(self):
        return f"Parameter(shape={self.shape}, dtype={self.dtype}, device={self.device})"


class Module:
    def __init__(self):
        object.__setattr__(self, "_parameters", OrderedDict())
        object.__setattr__(self, "_modules", OrderedDict())
        object.__setattr__(self, "training", True)

    def __setattr__(self, name, value):
        if "_parameters" not in self.__dict__:
            raise RuntimeError(f"{type(self).__name__}.__init__ must call super().__init__() "
                               "before assigning attributes")
        self._parameters.pop(name, None)
        self._modules.pop(name, None)
        if isinstance(value, Parameter):
            self._parameters[name] = value
        elif isinstance(value, Module):
            self._modules[name] = value
        object.__setattr__(self, name, value)

    def __call__(self, *args, **kwargs):
        return self.forward(*args, **kwargs)

    # ---- walking the tree -------------------------------------------------------------
    def named_modules(self, prefix: str = "", _seen=None):
        seen = set() if _seen is None else _seen
        if id(self) in seen:
            return
        seen.add(id(self))
        yield prefix, self
        for name, child in self._modules.items():
            yield from child.named_modules(f"{prefix}.{name}" if prefix else name, seen)

    def modules(self):
        return [m for _, m in self.named_modules()]

    def named_parameters(self):
        """(name, parameter) for every parameter, each once, in registration order."""
        seen = set()
        for mod_name, module in self.named_modules():
            for name, p in module._parameters.items():
                if id(p) in seen:
                    continue
                seen.add(id(p))
                yield (f"{mod_name}.{name}" if mod_name else name), p

    def parameters(self):
        return [p for _, p in self.named_parameters()]

    def zero_grad(self):
        for p in self.parameters():
            p.grad = None

    def requires_grad_(self, flag: bool = True):
        """Freeze (flag False) or unfreeze every parameter of this module; returns self.

        A frozen parameter is a constant to autograd: backward leaves its `.grad` None (and
        skips the work of computing it), so an optimizer neither updates it nor creates state
        for it. `model.decoder.requires_grad_(False)` freezes one part, and with it every
        module that part shares (T5's encoder holds the shared embedding as `embed_tokens`, so
        freezing the encoder freezes `shared.weight` too); `trainable_parameters` lists what is
        left to train.
        """
        if not isinstance(flag, bool):
            raise TypeError(f"requires_grad_ takes True or False, got {flag!r}")
        for p in self.parameters():
            p.requires_grad = flag
        return self

    def set_dropout_rng(self, rng):
        """Give every dropout layer inside this module the same numpy Generator."""
        for m in self.modules():
            if getattr(m, "uses_dropout_rng", False):
                m.rng = rng
        return self

    # ---- modes and devices ------------------------------------------------------------
    def train(self, mode: bool = True):
        for m in self.modules():
            object.__setattr__(m, "training", mode)
        return self

    def eval(self):
        return self.train(False)

    def to(self, device=None, dtype=None):
        """Move every parameter to 'cpu' or 'gpu' and/or cast to float32/float64, in place."""
        target = backend.resolve_device(device) if device is not None else None
        dt = backend.resolve_dtype(dtype) if dtype is not None else None
        for p in self.parameters():
            data = p.data
            if target is not None:
                data = backend.to_device(data, target)
            if dt is not None:
                data = data.astype(dt, copy=False)
            p.data = data
            p.grad = None
        return self

    @property
    def device(self) -> str:
        params = self.parameters()
        return params[0].device if params else "cpu"

    @property
    def dtype(self):
        params = self.parameters()
        return params[0].dtype if params else np.dtype(np.float32)

    # ---- state -------------------------------------------------------------------------
    def state_dict(self) -> "OrderedDict[str, np.ndarray]":
        """name -> NumPy copy of each parameter (on the CPU)."""
        return OrderedDict((n, p.numpy()) for n, p in self.named_parameters())

    def load_state_dict(self, state, strict: bool = True):
        """Copy arrays into the parameters, keeping each parameter's device and dtype.

        strict: every key must be known and every parameter present, with matching shapes.
        """
        own = dict(self.named_parameters())
        missing = [k for k in own if k not in state]
        unexpected = [k for k in state if k not in own]
        if strict and (missing or unexpected):
            raise KeyError("state dict does not match the model: "
                           f"missing {missing[:8]}{' ...' if len(missing) > 8 else ''}, "
                           f"unexpected {unexpected[:8]}{' ...' if len(unexpected) > 8 else ''}")
        for name, p in own.items():
            if name not in state:
                continue
            value = state[name]
            value = value.data if isinstance(value, Tensor) else value
            if tuple(value.shape) != tuple(p.shape):
                raise ValueError(f"shape mismatch for {name}: checkpoint has {tuple(value.shape)}, "
                                 f"the model expects {tuple(p.shape)} — is the config right?")
            xp = backend.get_array_module(p.data)
            p.data = xp.asarray(backend.to_device(value, p.device)).astype(p.dtype, copy=True)
            p.grad = None
        return missing, unexpected


@contextlib.contextmanager
def eval_mode(model):
    """Evaluation mode (no dropout) inside the block; afterwards every module has the mode it
    had before. `model` is a Module, or anything with `modules()` and `eval()` (an ensemble of
    models). Decoding and evaluation run inside it."""
    modes = [(m, m.training) for m in model.modules()]
    model.eval()
    try:
        yield
    finally:
        for m, training in modes:     # each module's own mode, as Module.train sets it
            object.__setattr__(m, "training", training)


def trainable_parameters(model: Module) -> list:
    """The names of the parameters an optimizer will update (requires_grad True), in
    `named_parameters()` order."""
    return [name for name, p in model.named_parameters() if p.requires_grad]


class ModuleList(Module):
    """Sub-modules named 0, 1, 2, ... (so keys read `block.0.layer.1...`)."""

    def __init__(self, modules=()):
        super().__init__()
        self._list = []
        for m in modules:
            self.append(m)

    def append(self, module):
        setattr(self, str(len(self._list)), module)
        self._list.append(module)

    def __getitem__(self, i):
        return self._list[i]

    def __len__(self):
        return len(self._list)

    def __iter__(self):
        return iter(self._list)
