"""Regenerate the Taylor coefficients about x = 1 used in globalfit/physics/loops.py.

The loop functions of Farzan & Heeck (arXiv:1607.07616, Eqs. 18, 19, 24, 25) have removable
singularities at x = 1; globalfit evaluates them there by their Taylor series in t = x - 1.
Run `python tools/derive_loop_series.py` (needs sympy) and paste the output into loops.py.
"""

import sympy as sp

x, t = sp.symbols("x t")
FUNCTIONS = {
    "F_H": (1 - 6 * x + 3 * x**2 + 2 * x**3 - 6 * x**2 * sp.log(x)) / (12 * (1 - x) ** 4),
    "G_W": x * (-3 + 18 * x - 9 * x**2 - 6 * x**3 + 18 * x**2 * sp.log(x)) / (12 * (1 - x) ** 4),
    "A_F2": (x**2 - 1 - 2 * x * sp.log(x)) / (x - 1) ** 3,
    "B_F2": (1 + x) * (3 - 3 * x**2 + (1 + 4 * x + x**2) * sp.log(x)) / (x - 1) ** 5,
    "C_F1": (3 - 3 * x + (2 + x) * sp.log(x)) / (x - 1) ** 2,
}
ORDER = 24

if __name__ == "__main__":
    for name, f in FUNCTIONS.items():
        s = sp.series(f.subs(x, 1 + t), t, 0, ORDER).removeO()
        coeffs = [sp.nsimplify(s.coeff(t, i)) for i in range(ORDER)]
        print(f"_SERIES_{name} = _fractions({[str(c) for c in coeffs]})")
