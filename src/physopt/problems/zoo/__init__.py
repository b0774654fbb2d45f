"""The problem zoo: named problems with trusted references. Use :func:`physopt.problems.get`.

See docs/problems.md for the table of equations, domains, reference methods and their accuracy.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

from .._problem import Problem
from ._allen_cahn import (
    allen_cahn,
    allen_cahn_deepxde,
    allen_cahn_dirichlet_solution,
    allen_cahn_periodic_solution,
)
from ._burgers import burgers, burgers_cole_hopf
from ._cavity import cavity, cavity_solve
from ._convection import convection, convection_exact
from ._diffusion_reaction import diffusion_reaction, diffusion_reaction_exact
from ._elastic_waves import elastic_waves, elastic_waves_exact
from ._field_inverse import poisson_field_inverse
from ._helmholtz import helmholtz2d, helmholtz2d_exact
from ._high_frequency import poisson1d_hf, poisson1d_hf_exact, poisson2d_multiscale, poisson2d_multiscale_exact
from ._inverse import (
    LOTKA_VOLTERRA_RATES,
    burgers_inverse,
    kovasznay_inverse,
    lotka_volterra,
    lotka_volterra_inverse,
)
from ._kdv import kdv, kdv_solution
from ._kovasznay import kovasznay, kovasznay_exact
from ._ns_inverse import navier_stokes_inverse, ns_inverse_reference
from ._p_laplacian import p_laplacian, p_laplacian_source
from ._poisson import poisson2d, poisson2d_exact
from ._quantum_well import QUANTUM_WELL_ENERGY, quantum_well, quantum_well_exact
from ._quantum_wells import Barrier, FiniteWell, quantum_barrier, quantum_finite_well, quantum_well_fixed_energy
from ._sdgd import allen_cahn_nd, poisson_nd, sdgd_coefficients, sdgd_exact, sdgd_laplacian
from ._taylor_green import taylor_green, taylor_green_exact
from ._wave import wave, wave_exact

__all__ = [
    "Barrier",
    "FiniteWell",
    "LOTKA_VOLTERRA_RATES",
    "QUANTUM_WELL_ENERGY",
    "ZOO",
    "allen_cahn",
    "allen_cahn_deepxde",
    "allen_cahn_dirichlet_solution",
    "allen_cahn_nd",
    "allen_cahn_periodic_solution",
    "burgers",
    "burgers_cole_hopf",
    "burgers_inverse",
    "cavity",
    "cavity_solve",
    "convection",
    "convection_exact",
    "diffusion_reaction",
    "diffusion_reaction_exact",
    "helmholtz2d",
    "helmholtz2d_exact",
    "kdv",
    "kdv_solution",
    "elastic_waves",
    "elastic_waves_exact",
    "kovasznay",
    "kovasznay_exact",
    "kovasznay_inverse",
    "lotka_volterra",
    "lotka_volterra_inverse",
    "navier_stokes_inverse",
    "ns_inverse_reference",
    "p_laplacian",
    "p_laplacian_source",
    "poisson1d_hf",
    "poisson1d_hf_exact",
    "poisson2d",
    "poisson2d_exact",
    "poisson2d_multiscale",
    "poisson2d_multiscale_exact",
    "poisson_nd",
    "quantum_barrier",
    "quantum_finite_well",
    "quantum_well",
    "quantum_well_fixed_energy",
    "quantum_well_exact",
    "sdgd_coefficients",
    "sdgd_exact",
    "sdgd_laplacian",
    "taylor_green",
    "taylor_green_exact",
    "wave",
    "wave_exact",
]

# Explicit registry: name -> factory returning a fresh Problem.
ZOO: dict[str, Callable[[], Problem]] = {
    "burgers": burgers,
    "poisson2d": poisson2d,
    "helmholtz2d": helmholtz2d,
    "convection": convection,
    "convection-50": partial(convection, beta=50.0),
    "diffusion-reaction": diffusion_reaction,
    "wave": wave,
    "elastic-waves": elastic_waves,
    "quantum-well": quantum_well,
    "quantum-well-fixed-e": quantum_well_fixed_energy,
    "quantum-finite-well": quantum_finite_well,
    "quantum-barrier": quantum_barrier,
    "allen-cahn": allen_cahn,
    "allen-cahn-deepxde": allen_cahn_deepxde,
    "kovasznay": kovasznay,
    "kdv": kdv,
    "cavity": cavity,
    "poisson-nd": poisson_nd,
    "allen-cahn-nd": allen_cahn_nd,
    "p-laplacian": p_laplacian,
    "burgers-inverse": burgers_inverse,
    "lotka-volterra-inverse": lotka_volterra_inverse,
    "kovasznay-inverse": kovasznay_inverse,
    "navier-stokes-inverse": navier_stokes_inverse,
    "poisson-field-inverse": poisson_field_inverse,
    "poisson1d-hf": poisson1d_hf,
    "poisson2d-multiscale": poisson2d_multiscale,
    "taylor-green": taylor_green,
}
