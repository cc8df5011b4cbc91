"""Flux- and response-integrated scattering rates tabulated against the Z' mass (PHYSICS.md §7).

A rate of :mod:`globalfit.physics.scattering` is a fixed quadrature sum ``sum_i w_i dsigma/dT(E_i, T_i)`` in which
the parameters enter only through eps_ab(q_i^2) = k g_f G_ab P_i, P_i = 1/(q_i^2 + M^2), k = 1/(sqrt2 G_F)
(:func:`globalfit.physics.nsi.eps_fermion`, oscillation convention). The cross sections are quadratic in eps, so for
every source/target combination

    R(G, g_f, M) = sum_alpha [ c0_alpha + g_f Re(G_aa) C1_alpha(M) + g_f^2 S_alpha C2_alpha(M) ],
    S_alpha = sum_b |G_ab|^2,   C1_alpha(M) = sum_i b_i P_i,   C2_alpha(M) = sum_i c_i P_i^2,   c0_alpha = sum_i a_i,

the sums running over the quadrature nodes of the flavour-alpha components; a_i, b_i, c_i are constants of the build:

**CEvNS** (:func:`globalfit.physics.scattering.dsigma_dT_cevns`, g_u = g_d = g_q so that Z(2 eps^u + eps^d) +
N(eps^u + 2 eps^d) = 3A eps): sum_b |Q_SM delta_ab + 3A eps_ab|^2 = Q_SM^2 + 2 Q_SM 3A Re eps_aa + (3A)^2 sum_b |eps_ab|^2, so
with K_i = w_i (G_F^2 m_N/pi)(1 - m_N T_i/(2 E_i^2))_+ F^2(q_i):

    a_i = Q_SM^2 K_i,   b_i = 2 Q_SM (3A) k K_i,   c_i = (3A k)^2 K_i      (summed over the nuclei of a target).

**nu-e** (:func:`globalfit.physics.scattering.dsigma_dT_nue`, g_L,R -> g_L,R delta_ab + eps_ab/2, antineutrinos with
g_L <-> g_R, summed over b): A_L = g_L^2 + g_L Re eps_aa + S_eps/4, A_R = g_R^2 + g_R Re eps_aa + S_eps/4,
A_LR = g_L g_R + (g_L + g_R)/2 Re eps_aa + S_eps/4 (S_eps = sum_b |eps_ab|^2), so with the kinematic weights
w_i (k_L, k_R, k_LR) = w_i (2 G_F^2 m_e/pi)(1, (1 - T/E)^2, m_e T/E^2):

    a_i = g_L^2 k_L + g_R^2 k_R - g_L g_R k_LR,   b_i = k (g_L k_L + g_R k_R - (g_L + g_R)/2 k_LR),
    c_i = (k^2/4)(k_L + k_R - k_LR)                                     (g_L, g_R already swapped for antineutrinos).

**Tabulation.** C1 and C2 depend on M only, through the propagator. They are tabulated once (numpy, float64) on a
uniform grid in u = ln M with ``points_per_unit`` nodes per unit, as the smooth ratios
g_p(u) = C_p(M) (q_ref^2 + M^2)^p (p = 1, 2; q_ref^2 the |c|-weighted geometric mean of the nodes' q^2) with their
analytic derivatives dg_p/du, and read back by cubic Hermite interpolation
(:func:`globalfit.physics.interp.hermite_coefficients`, :func:`globalfit.physics.interp.piecewise_cubic`: index
arithmetic, one gather, no search, no loop): C_p(M) = g_p(u) sigma(-2(u - u_ref))^p / q_ref^(2p), u_ref = ln q_ref,
sigma the logistic function (so 1/(q_ref^2 + M^2) is evaluated without overflow for any M in (0, inf)). g_p tends to
a constant at both ends, which keeps the interpolation error (<= h^4 max|g_p^(4)| / 384) at ~1e-9 of C_p with 64 nodes
per unit. The grid spans u in [ln min(1e-5 GeV, 1e-6 q_min), ln max(10 GeV, 1e5 q_max)]; outside it g_p is held
constant, i.e. C_p is continued by its exact asymptotic forms (constant as M -> 0, proportional to M^(-2p) as
M -> inf) up to a relative error <= 2 (M_lo/q_min)^2 <= 2e-12 below and <= (q_max/M_hi)^2 <= 1e-10 above.

:meth:`RateTable.rate_exact` is the direct quadrature sum of :mod:`globalfit.physics.scattering` (the reference, a
likelihood's ``exact`` path). Tables are cached on disk (:func:`cache_dir`), keyed by a hash of the node coefficients
(a_i, b_i, c_i, q_i^2: grids, target, couplings and constants) and the options; a cache that cannot be read or
written is skipped and the table computed.
"""

from __future__ import annotations

import hashlib
import math
import os
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np

from globalfit import _jax  # noqa: F401  (float64)
from globalfit.physics.interp import hermite_coefficients, piecewise_cubic
from globalfit.physics.nsi import eps_normalisation
from globalfit.physics.scattering import (
    Grid,
    Nucleus,
    cevns_charge_sm,
    cevns_kinematic_weight,
    nue_couplings,
    nue_kinematic_weights,
    rate_cevns,
    rate_nue,
)

__all__ = ["RateTable", "cevns_rate_table", "nue_rate_table", "cache_dir", "M_COVERED"]

M_COVERED = (1e-5, 10.0)  # GeV: the tabulated range always includes this
_BELOW_Q_MIN = 1e-6  # grid starts at most at this fraction of the smallest q
_ABOVE_Q_MAX = 1e5  # and ends at least at this multiple of the largest q
_FORMAT = "globalfit-rate-table-v1"
_EYE = np.eye(3)


@dataclass(frozen=True)
class _Nodes:
    """Quadrature nodes of one flavour alpha: rate = sum_i a_i + g Re G_aa sum_i b_i P_i + g^2 S_a sum_i c_i P_i^2."""

    a: np.ndarray
    b: np.ndarray
    c: np.ndarray
    q2: np.ndarray


@dataclass(frozen=True, eq=False)
class RateTable:
    """R(G, g_f, M) of one source on one target (module doc), tabulated in ln M.

    ``cubic`` (shape (n - 1, 4, 2, 3)): the cubic Hermite coefficients (:func:`globalfit.physics.interp.hermite_coefficients`)
    of g_p,alpha (p = 1, 2; alpha = e, mu, tau) on the intervals [u_j, u_j + du], u_j = u0 + j du."""

    kind: str  # "cevns" | "nue"
    parts: tuple[tuple[Nucleus | None, tuple[Grid, ...]], ...]  # the quadrature, for rate_exact
    s2w: float
    c0: np.ndarray  # (3,) SM rate per flavour [GeV^-2]
    q2_ref: float  # GeV^2
    u0: float
    du: float
    cubic: np.ndarray

    @property
    def sm(self) -> float:
        """The Standard-Model rate sum_alpha c0_alpha [GeV^-2]."""
        return float(np.sum(self.c0))

    @property
    def mass_range(self) -> tuple[float, float]:
        """(M_lo, M_hi) [GeV] of the tabulated grid (outside: exact asymptotic forms, module doc)."""
        return math.exp(self.u0), math.exp(self.u0 + self.cubic.shape[0] * self.du)

    def coefficients(self, M_Zp):
        """C[p - 1, alpha] = C_p,alpha(M_Zp), shape (2, 3) (p = 1, 2; alpha = e, mu, tau), at Z' mass M_Zp [GeV] (scalar)."""
        u = jnp.log(jnp.asarray(M_Zp, dtype=jnp.float64))
        g = piecewise_cubic(u, self.u0, self.du, self.cubic)  # (2, 3)
        damp = jax.nn.sigmoid(-2.0 * (u - 0.5 * math.log(self.q2_ref))) / self.q2_ref  # 1/(q_ref^2 + M^2)
        return g * jnp.stack([damp, damp * damp])[:, None]

    def rate(self, G, g_f, M_Zp):
        """Tabulated R(G, g_f, M_Zp) [GeV^-2]: G the 3x3 (complex) Z'-neutrino couplings, g_f the Z' coupling to the
        target fermion (g_q = g_u = g_d for CEvNS, g_e for nu-e), M_Zp in GeV. Pure JAX, scalar arguments (vmap
        for batches)."""
        G = jnp.asarray(G)
        re, im = jnp.real(G), jnp.imag(G)
        # sum_a [g Re G_aa C1_a + g^2 sum_b |G_ab|^2 C2_a] as one elementwise product and one sum (no diagonal gather)
        w = jnp.stack([g_f * re * _EYE, g_f**2 * (re * re + im * im)])  # (2, 3, 3)
        return self.sm + jnp.sum(self.coefficients(M_Zp)[:, :, None] * w)

    def rate_exact(self, G, g_f, M_Zp):
        """The same rate as the direct quadrature sum of :mod:`globalfit.physics.scattering` (the reference)."""
        if self.kind == "cevns":
            return sum(rate_cevns(grids, nuc, self.s2w, G, g_f, M_Zp) for nuc, grids in self.parts)
        return sum(rate_nue(grids, self.s2w, G, g_f, M_Zp) for _, grids in self.parts)


# ---------------------------------------------------------------------------------------------- node coefficients


def _collect(per_grid: list[tuple[int, np.ndarray, np.ndarray, np.ndarray, np.ndarray]]) -> tuple[_Nodes, ...]:
    """Concatenate the nodes of every grid by flavour, dropping nodes that contribute nothing."""
    out = []
    for alpha in range(3):
        rows = [r for r in per_grid if r[0] == alpha]
        a, b, c, q2 = (np.concatenate([r[k] for r in rows]) if rows else np.zeros(0) for k in range(1, 5))
        keep = (a != 0) | (b != 0) | (c != 0)
        out.append(_Nodes(a[keep], b[keep], c[keep], q2[keep]))
    return tuple(out)


def _cevns_nodes(parts, s2w: float) -> tuple[_Nodes, ...]:
    k = eps_normalisation()
    rows = []
    for nuc, grids in parts:
        q_sm, a3 = cevns_charge_sm(nuc, s2w), 3.0 * (nuc.Z + nuc.N)
        for g in grids:
            K = g.w * np.asarray(cevns_kinematic_weight(g.E, g.T, nuc, g.ff2))
            rows.append((g.alpha, q_sm**2 * K, 2.0 * q_sm * a3 * k * K, (a3 * k) ** 2 * K, np.asarray(g.q2)))
    return _collect(rows)


def _nue_nodes(grids, s2w: float) -> tuple[_Nodes, ...]:
    k = eps_normalisation()
    rows = []
    for g in grids:
        gL, gR = nue_couplings(g.alpha, g.anti, s2w)
        if g.anti:
            gL, gR = gR, gL
        kL, kR, kLR = (g.w * np.asarray(x) for x in nue_kinematic_weights(g.E, g.T))
        a = gL**2 * kL + gR**2 * kR - gL * gR * kLR
        b = k * (gL * kL + gR * kR - 0.5 * (gL + gR) * kLR)
        c = 0.25 * k**2 * (kL + kR - kLR)
        rows.append((g.alpha, a, b, c, np.asarray(g.q2)))
    return _collect(rows)


# ---------------------------------------------------------------------------------------------- tabulation


def _q2_ref(nodes: tuple[_Nodes, ...]) -> float:
    w = np.concatenate([np.abs(n.c) for n in nodes])
    q2 = np.concatenate([n.q2 for n in nodes])
    if w.sum() <= 0:
        raise ValueError("rate table: the grids have no node with non-zero weight")
    return float(np.exp(np.sum(w * np.log(q2)) / np.sum(w)))


def _tabulate(nodes: tuple[_Nodes, ...], points_per_unit: int) -> dict[str, np.ndarray]:
    """g_p(u) = C_p (q_ref^2 + M^2)^p and dg_p/du on the uniform u grid (module doc)."""
    q2_all = np.concatenate([n.q2 for n in nodes])
    q2_ref = _q2_ref(nodes)
    u_lo = min(math.log(M_COVERED[0]), 0.5 * math.log(q2_all.min()) + math.log(_BELOW_Q_MIN))
    u_hi = max(math.log(M_COVERED[1]), 0.5 * math.log(q2_all.max()) + math.log(_ABOVE_Q_MAX))
    du = 1.0 / points_per_unit
    n = int(math.ceil((u_hi - u_lo) / du)) + 1
    u = u_lo + du * np.arange(n)
    M2 = np.exp(2.0 * u)
    s = q2_ref + M2
    values, slopes = np.zeros((n, 6)), np.zeros((n, 6))
    for alpha, nd in enumerate(nodes):
        for j0 in range(0, n, 256):
            sl = slice(j0, min(j0 + 256, n))
            P = 1.0 / (nd.q2[None, :] + M2[sl, None])  # (chunk, nodes)
            P2 = P * P
            for p, coef, Pp, Pp1 in ((1, nd.b, P, P2), (2, nd.c, P2, P2 * P)):
                C = Pp @ coef
                dC = -2.0 * p * M2[sl] * (Pp1 @ coef)  # dC/du, u = ln M
                col = alpha + 3 * (p - 1)
                values[sl, col] = C * s[sl] ** p
                slopes[sl, col] = dC * s[sl] ** p + C * p * s[sl] ** (p - 1) * 2.0 * M2[sl]
    return {"c0": np.array([np.sum(nd.a) for nd in nodes]), "q2_ref": np.float64(q2_ref), "u0": np.float64(u_lo),
            "du": np.float64(du), "values": values, "slopes": slopes}


# ---------------------------------------------------------------------------------------------- disk cache


def cache_dir() -> Path:
    """Directory of the table cache: $GLOBALFIT_CACHE, else $XDG_CACHE_HOME/globalfit, else ~/.cache/globalfit."""
    if os.environ.get("GLOBALFIT_CACHE"):
        return Path(os.environ["GLOBALFIT_CACHE"]).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "globalfit"


def _key(kind: str, nodes: tuple[_Nodes, ...], points_per_unit: int) -> str:
    h = hashlib.sha256(f"{_FORMAT}|{kind}|{points_per_unit}|{M_COVERED}|{_BELOW_Q_MIN}|{_ABOVE_Q_MAX}".encode())
    for nd in nodes:
        for arr in (nd.a, nd.b, nd.c, nd.q2):
            h.update(np.ascontiguousarray(arr, dtype=np.float64).tobytes())
            h.update(b"|")
    return h.hexdigest()


_FIELDS = ("c0", "q2_ref", "u0", "du", "values", "slopes")


def _load(path: Path, key: str) -> dict[str, np.ndarray] | None:
    try:
        with np.load(path, allow_pickle=False) as z:
            if str(z["key"]) != key:
                return None
            out = {f: np.array(z[f]) for f in _FIELDS}
    except (OSError, KeyError, ValueError):
        return None
    ok = out["c0"].shape == (3,) and out["values"].ndim == 2 and out["values"].shape[1] == 6
    return out if ok and out["slopes"].shape == out["values"].shape else None


def _store(path: Path, key: str, table: dict[str, np.ndarray]) -> None:
    """Write atomically (temporary file in the same directory, then rename); skip silently if impossible."""
    tmp = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name, suffix=".tmp")
        with os.fdopen(fd, "wb") as fh:
            np.savez(fh, key=np.array(key), **table)
        os.replace(tmp, path)
        tmp = None
    except OSError:
        pass
    finally:
        if tmp is not None:
            try:
                os.unlink(tmp)
            except OSError:
                pass


def _table(kind: str, nodes: tuple[_Nodes, ...], points_per_unit: int, cache: bool) -> dict[str, np.ndarray]:
    if not (isinstance(points_per_unit, int) and 8 <= points_per_unit <= 4096):
        raise ValueError(f"points_per_unit must be an integer in [8, 4096], got {points_per_unit!r}")
    if not cache:
        return _tabulate(nodes, points_per_unit)
    key = _key(kind, nodes, points_per_unit)
    path = cache_dir() / "rates" / f"{kind}-{key[:32]}.npz"
    table = _load(path, key)
    if table is None:
        table = _tabulate(nodes, points_per_unit)
        _store(path, key, table)
    return table


def _build(kind, parts, s2w, nodes, points_per_unit, cache) -> RateTable:
    t = _table(kind, nodes, points_per_unit, cache)
    du = float(t["du"])
    return RateTable(kind, parts, float(s2w), t["c0"], float(t["q2_ref"]), float(t["u0"]), du,
                     hermite_coefficients(t["values"].reshape(-1, 2, 3), t["slopes"].reshape(-1, 2, 3), du))


def cevns_rate_table(parts: Sequence[tuple[Nucleus, Sequence[Grid]]], s2w: float, *, points_per_unit: int = 64,
                     cache: bool = True) -> RateTable:
    """Rate table of CEvNS on a target made of one or more nuclei in equal numbers: ``parts`` = ((nucleus, grids), ...)
    with grids from :func:`globalfit.physics.scattering.grid` (``A_form_factor`` set). The rate is that of
    ``sum(rate_cevns(grids, nucleus, s2w, G, g_q, M) for nucleus, grids in parts)``. ``cache=False`` bypasses the
    disk cache."""
    parts = tuple((nuc, tuple(grids)) for nuc, grids in parts)
    for nuc, grids in parts:
        if any(g.ff2 is None for g in grids):
            raise ValueError(f"cevns_rate_table: grids on {nuc.name} need the form factor (grid(..., A_form_factor=A))")
    with jax.ensure_compile_time_eval():  # concrete even when first built inside a traced function
        nodes = _cevns_nodes(parts, s2w)
    return _build("cevns", parts, s2w, nodes, points_per_unit, cache)


def nue_rate_table(grids: Sequence[Grid], s2w: float, *, points_per_unit: int = 64, cache: bool = True) -> RateTable:
    """Rate table of nu-e elastic scattering: the rate of ``rate_nue(grids, s2w, G, g_e, M)``. ``cache=False``
    bypasses the disk cache."""
    grids = tuple(grids)
    with jax.ensure_compile_time_eval():  # concrete even when first built inside a traced function
        nodes = _nue_nodes(grids, s2w)
    return _build("nue", ((None, grids),), s2w, nodes, points_per_unit, cache)
