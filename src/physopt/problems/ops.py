"""Autograd differential operators: ``grad``, ``partial``, ``laplacian``, ``div``, ``dt``.

Example::

    from physopt.problems import ops
    u_xx = ops.partial(u, x, 0, 0)
    lap = ops.laplacian(u, x, axes=[0, 1])
"""

from ._ops import SAMPLED_DIMS, div, dt, grad, laplacian, partial

__all__ = ["SAMPLED_DIMS", "div", "dt", "grad", "laplacian", "partial"]
