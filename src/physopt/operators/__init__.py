"""PDE families for operator learning: datasets of instances from our own solvers, or users' arrays.

``OperatorData`` is the typed value (``inputs (N, C_in, *grid)``, ``outputs (N, C_out, *grid)``);
:data:`FAMILIES` maps family names to generators (see ``_registry.py`` for the contract);
:func:`load_family` draws and caches; :func:`load_npz` reads a user's file; a family's
:class:`Residual` (torch) is its discretised PDE for physics losses. Leaf package (NumPy/SciPy/torch).
"""

from ._annulus import AnnulusInstance, AnnulusOptions
from ._burgers import BurgersOptions
from ._darcy import DarcyOptions
from ._data import OperatorData, axis_coordinates, load_npz
from ._navier_stokes import NavierStokesOptions, solve_vorticity
from ._poisson import Poisson2dOptions, PoissonOptions
from ._registry import FAMILIES, family_options, family_spec, load_family
from ._residuals import Residual
from ._spec import FamilySpec
from ._unit_cell import UnitCellOptions

__all__ = [
    "AnnulusInstance",
    "AnnulusOptions",
    "BurgersOptions",
    "DarcyOptions",
    "FAMILIES",
    "FamilySpec",
    "NavierStokesOptions",
    "OperatorData",
    "Poisson2dOptions",
    "PoissonOptions",
    "Residual",
    "UnitCellOptions",
    "axis_coordinates",
    "family_options",
    "family_spec",
    "load_family",
    "load_npz",
    "solve_vorticity",
]
