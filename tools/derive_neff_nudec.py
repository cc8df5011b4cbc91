"""Regenerate likelihoods/data/DERIVED_Neff_zp_psi_nudecBSM.csv: N_eff with a thermalised Z' (massive vector, 3 dof,
Bose) AND a thermalised Dirac Psi (4 dof, Fermi), both in equilibrium with the neutrino sector, by driving Escudero's
public NUDEC_BSM (arXiv:1812.05605, arXiv:2001.04466; github.com/MiguelEA/nudec_BSM @ 54cb3fb, GPL-3, not copied here).

NUDEC_BSM's WIMP_nu.py evolves T_gamma and T_nu with ONE species of mass MDM and gDM internal degrees of freedom
kept in equilibrium with the neutrinos: its energy density rho_DM(T_nu), pressure p_DM and d rho_DM/dT enter the
neutrino-sector equation linearly. This driver executes WIMP_nu.py's own source up to the integration, replaces
those three functions by the sum over the two species (the equations are unchanged: the neutrino sector simply holds
both), and then executes the rest of the script. With M_Psi far above the decoupling temperature it reproduces the
single-vector run (the check printed first: the project's DERIVED vector table at 10 MeV, 3.3605).

Usage (about 5 s of CPU per point, 55 points):
    git clone https://github.com/MiguelEA/nudec_BSM && cd nudec_BSM && git checkout 54cb3fb
    python /path/to/globalfit/tools/derive_neff_nudec.py > DERIVED_Neff_zp_psi_nudecBSM.rows
and paste the rows under the provenance header of the data file.
"""

from __future__ import annotations

import io
import sys
from contextlib import redirect_stdout

import numpy as np
from scipy.integrate import quad

MARKER = "#Start the integration"
M_ZP_MEV = (1, 2, 3, 5, 7, 10, 14, 20, 30)
M_PSI_MEV = (1, 2, 3, 5, 7, 10, 14, 20, 30, 50)


def species(g: float, m: float, sign: float):
    """rho, p, d rho/dT of an ideal gas (g dof, mass m, sign = -1 Bose, +1 Fermi) at temperature T, zero chemical
    potential: rho = g/(2 pi^2) T^4 Int x^2 sqrt(x^2 - a^2)/(e^x + sign) dx, a = m/T (same cut as WIMP_nu.py)."""

    def rho(T, _m=None):
        if T < m / 30.0:
            return 0.0
        a = m / T
        return g / (2 * np.pi**2) * T**4 * quad(lambda E: E**2 * (E**2 - a**2) ** 0.5 / (np.exp(E) + sign), a, 100,
                                                 epsabs=1e-12, epsrel=1e-12)[0]

    def p(T, _m=None):
        if T < m / 30.0:
            return 0.0
        a = m / T
        return g / (6 * np.pi**2) * T**4 * quad(lambda E: (E**2 - a**2) ** 1.5 / (np.exp(E) + sign), a, 100,
                                                 epsabs=1e-12, epsrel=1e-12)[0]

    def drho(T, _m=None):
        if T < m / 30.0:
            return 0.0
        a = m / T
        kernel = (lambda E: np.sinh(E / 2.0) ** -2) if sign < 0 else (lambda E: np.cosh(E / 2.0) ** -2)
        return g / (2 * np.pi**2) * T**3 * quad(lambda E: 0.25 * E**3 * (E**2 - a**2) ** 0.5 * kernel(E), a, 100,
                                                 epsabs=1e-12, epsrel=1e-12)[0]

    return rho, p, drho


def neff(m_zp: float, m_psi: float | None, source: str) -> float:
    """N_eff with the Z' (and Psi unless None) in equilibrium with the neutrinos (masses in MeV)."""
    head, tail = source.split(MARKER)
    sys.argv = ["WIMP_nu.py", str(m_zp), "3", "B", "globalfit_tmp"]
    ns: dict = {"__name__": "nudec"}
    exec(compile(head, "WIMP_nu.py", "exec"), ns)
    if m_psi is not None:
        parts = [species(3.0, m_zp, -1.0), species(4.0, m_psi, +1.0)]
        ns["rho_DM"] = lambda T, M: sum(s[0](T) for s in parts)
        ns["p_DM"] = lambda T, M: sum(s[1](T) for s in parts)
        ns["drho_DMdT"] = lambda T, M: sum(s[2](T) for s in parts)
    with redirect_stdout(io.StringIO()):
        exec(compile(MARKER + tail, "WIMP_nu.py", "exec"), ns)
    return float(ns["Neff_func"](ns["sol"][-1, 0], ns["sol"][-1, 1], ns["sol"][-1, 1]))


if __name__ == "__main__":
    src = open("WIMP_nu.py").read()
    print(f"# check: vector alone at 10 MeV: {neff(10.0, None, src):.5f} (DERIVED vector table: 3.3605)", flush=True)
    print("m_Zp_MeV,m_Psi_MeV,N_eff", flush=True)
    for mz in M_ZP_MEV:
        for mp in M_PSI_MEV:
            if mp >= mz:
                print(f"{mz:g},{mp:g},{neff(float(mz), float(mp), src):.5f}", flush=True)
