"""Flat-vector views of a parameter list, shared by the dense second-order optimizers
(quasi-Newton, ENGD, GNSNewton), which work on one vector x ∈ R^n instead of tensors.

Unlike ``torch.nn.utils.vector_to_parameters`` (which rebinds ``.data`` to slices of the vector),
:func:`set_flat_params` copies into the existing tensors, so the vector can be reused afterwards.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor

__all__ = ["flat_grad", "flat_params", "set_flat_grad", "set_flat_params"]


def flat_params(params: Sequence[Tensor]) -> Tensor:
    """The parameters concatenated into one new vector (detached)."""
    return torch.cat([p.detach().reshape(-1) for p in params])


def flat_grad(params: Sequence[Tensor]) -> Tensor:
    """The gradients concatenated into one new vector; a missing gradient counts as zero."""
    return torch.cat([
        torch.zeros(p.numel(), dtype=p.dtype, device=p.device) if p.grad is None else p.grad.detach().reshape(-1)
        for p in params
    ])


def set_flat_params(params: Sequence[Tensor], x: Tensor) -> None:
    """Copy consecutive slices of ``x`` into the parameters, in place."""
    offset = 0
    with torch.no_grad():
        for p in params:
            n = p.numel()
            p.copy_(x[offset : offset + n].view_as(p))
            offset += n


def set_flat_grad(params: Sequence[Tensor], g: Tensor) -> None:
    """Copy consecutive slices of ``g`` into the parameters' gradients (created where missing)."""
    offset = 0
    for p in params:
        n = p.numel()
        if p.grad is None:
            p.grad = g[offset : offset + n].view_as(p).clone()
        else:
            p.grad.copy_(g[offset : offset + n].view_as(p))
        offset += n
