"""Reverse-mode automatic differentiation on NumPy/CuPy arrays."""
from minit5.autograd import ops  # binds Tensor's operators
from minit5.autograd.tensor import Function, Tensor, is_grad_enabled, no_grad, topological_order

__all__ = ["Tensor", "Function", "no_grad", "is_grad_enabled", "topological_order", "ops"]
