"""Flux- and response-integrated scattering rates tabulated against the Z' mass (PHYSICS.md §7).

A rate of :mod:`globalfit.physics.scattering` is a fixed quadrature sum ``sum_i w_i dsigma/dT(E_i, T_i)`` in which
the parameters enter only through eps_ab(q_i^2) = k g_f G_ab P_i, P_i = 1/(q_i^2 + M^2), k = 1/(sqrt2 G_F)
(:func:`globalfit.physics.nsi.eps_fermion`, oscillation convention). The cross sections are quadratic in eps, so for
every source/target combination

    R(G, g_f, M) = c0 + g_f Re Tr[C1(M) G] + g_f^2 Re Tr[C2(M) G^2],
    C1(M) = sum_i B_i P_i,   C2(M) = sum_i C_i P_i^2,   c0 = sum_i a_i,

with Hermitian 3x3 node matrices B_i, C_i (constants of the build). A node whose incoming neutrino is the flavour
state psi (rho = psi psi^dagger; a flavour alpha or a solar mass eigenstate, :mod:`globalfit.physics.scattering`)
with flavour-diagonal SM amplitude D has rate |(D + eps) psi|^2 = psi^dagger D^2 psi + Re Tr[(rho D + D rho) eps]
+ Tr[rho eps^2], so B_i ∝ rho D + D rho and C_i ∝ rho; for a flavour alpha both are ∝ e_a e_a^dagger and the traces
are Re G_aa and S_a = sum_b |G_ab|^2. Tabulated as 9 real channels per matrix, X -> (X_aa, 2 Re X_ab, 2 Im X_ab)
(a < b), against (Re Y_aa, Re Y_ab, Im Y_ab) of Y = G or G^2; a built table spreads them to 18 weights on all of
(Re Y, Im Y) (:func:`_dense_map`), so that each term is one product and sum (full_B's value and gradient: 401 thunks
against 426 with the 9 picked entries, and 389 before the matrices, docs/performance.md). The per-node constants, written for one flavour:

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

Every grid lies on the lattice u_j = j du, so tables built with the same ``points_per_unit`` can be read together:
:func:`stack_rate_tables` gives a :class:`RateTableStack` whose ``rates(G, g_f, M)`` evaluates K tables with one
table read and the same few vector operations as one table (compiled code and compile time independent of K). The
stack reads its K x 36 weight functions through a shared basis of ~20 functions of u (their singular value
decomposition, truncated at 1e-11 of each function's largest value), so that the numbers read per point do not grow
with K either; only a small dense product with fixed weights does (docs/performance.md, "The shared basis of the rate
stack").

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
from typing import Literal

import jax
import jax.numpy as jnp
import numpy as np
from jax.typing import ArrayLike

from globalfit import _jax  # noqa: F401  (float64)
from globalfit.physics.interp import hermite_coefficients, piecewise_cubic
from globalfit.physics.nsi import eps_normalisation
from globalfit.physics.numerics import on_grid, one_blas_thread
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

__all__ = ["RateTable", "RateTableStack", "cevns_rate_table", "cevns_rate_sm", "nue_rate_table", "stack_rate_tables",
           "cache_dir", "M_COVERED"]

M_COVERED = (1e-5, 10.0)  # GeV: the tabulated range always includes this
_BELOW_Q_MIN = 1e-6  # grid starts at most at this fraction of the smallest q
_ABOVE_Q_MAX = 1e5  # and ends at least at this multiple of the largest q
_FORMAT = "globalfit-rate-table-v4"  # v4: tabulated with BLAS on one thread (globalfit.physics.numerics.one_blas_thread)
_PAIRS = ((0, 1), (0, 2), (1, 2))
_NCH = 9  # real channels of a Hermitian 3x3 matrix (module doc)


@dataclass(frozen=True)
class _Nodes:
    """Quadrature nodes: rate = sum_i a_i + g b_i . f(G) P_i + g^2 c_i . f(G^2) P_i^2, b_i and c_i the 9 channels
    (:func:`_channels`) of B_i and C_i (shape (n, 9)), f the matching real parts of G (:func:`_features`)."""

    a: np.ndarray
    b: np.ndarray
    c: np.ndarray
    q2: np.ndarray


def _channels(X: np.ndarray) -> np.ndarray:
    """The 9 real channels of Hermitian matrices X (..., 3, 3): (X_aa, 2 Re X_ab, 2 Im X_ab), a < b, so that
    Re Tr[X Y] = channels(X) . features(Y) for Hermitian Y."""
    X = np.asarray(X)
    diag = [X[..., a, a].real for a in range(3)]
    off = [X[..., a, b] for a, b in _PAIRS]
    return np.stack(diag + [2.0 * z.real for z in off] + [2.0 * z.imag for z in off], axis=-1)


def _features(Y) -> jax.Array:
    """(Re Y_aa, Re Y_ab, Im Y_ab), a < b, of a Hermitian 3x3 Y (the partner of :func:`_channels`)."""
    Y = jnp.asarray(Y)
    re, im = jnp.real(Y), jnp.imag(Y)
    return jnp.stack([re[0, 0], re[1, 1], re[2, 2], re[0, 1], re[0, 2], re[1, 2], im[0, 1], im[0, 2], im[1, 2]])


def _dense_map() -> np.ndarray:
    """(9, 18): channel coefficients -> weights of (Re Y, Im Y) flattened, split evenly between Y_ab and Y_ba, so that
    channels . features(Y) = weights . (Re Y, Im Y) for Hermitian Y (and the gradient in Y is Hermitian)."""
    m = np.zeros((_NCH, 2, 3, 3))
    for a in range(3):
        m[a, 0, a, a] = 1.0
    for p, (a, b) in enumerate(_PAIRS):
        m[3 + p, 0, a, b] = m[3 + p, 0, b, a] = 0.5
        m[6 + p, 1, a, b], m[6 + p, 1, b, a] = 0.5, -0.5
    return m.reshape(_NCH, 18)


_DENSE = _dense_map()


def _re_im(Y) -> jax.Array:
    """(Re Y, Im Y) of a 3x3 complex Y, flattened to 18 numbers (the partner of the table's dense weights)."""
    Y = jnp.asarray(Y)
    return jnp.concatenate([jnp.real(Y).reshape(9), jnp.imag(Y).reshape(9)])


def _log_mass(M_Zp) -> jax.Array:
    """u = ln M_Zp, kept finite for subnormal M (far below every grid; keeps d ln M/dM finite)."""
    M = jnp.asarray(M_Zp, dtype=jnp.float64)
    return jnp.log(jnp.where(M > 1e-300, M, 1e-300))


def _damp(u, q2_ref: np.ndarray) -> jax.Array:
    """1/(q_ref^2 + M^2) = sigma(-2(u - u_ref))/q_ref^2 (no overflow for any M), one per q2_ref."""
    return jax.nn.sigmoid(-2.0 * (u - 0.5 * np.log(q2_ref))) / q2_ref


def _coefficients(cubic, u0: float, du: float, q2_ref: np.ndarray, M_Zp) -> jax.Array:
    """C[p - 1, k, j] = weight j of C_p(M_Zp) on (Re Y, Im Y) (:func:`_dense_map`) of K tables on one lattice: cubic
    (n - 1, 4, 2, K, 18), q2_ref (K,)."""
    u = _log_mass(M_Zp)
    g = piecewise_cubic(u, u0, du, cubic)  # (2, K, 18): one gather
    damp = _damp(u, q2_ref)
    return g * jnp.stack([damp, damp * damp])[:, :, None]


def _evaluate(cubic, u0: float, du: float, q2_ref: np.ndarray, sm: np.ndarray, G, g_f, M_Zp) -> jax.Array:
    """R_k = sm_k + g_k Re Tr[C1_k G] + g_k^2 Re Tr[C2_k G^2] (K tables; g_f scalar or (K,))."""
    c = _coefficients(cubic, u0, du, q2_ref, M_Zp)
    G = jnp.asarray(G)
    return sm + g_f * (c[0] @ _re_im(G)) + g_f**2 * (c[1] @ _re_im(G @ G))


@dataclass(frozen=True, eq=False)
class RateTable:
    """R(G, g_f, M) of one source on one target (module doc), tabulated in ln M.

    ``cubic`` (shape (n - 1, 4, 2, 18)): the cubic Hermite coefficients (:func:`globalfit.physics.interp.hermite_coefficients`)
    of g_p (p = 1, 2) as weights on (Re Y, Im Y) of Y = G, G^2 (the 9 channels of C_p spread by :func:`_dense_map`:
    one product and sum per term, no element picking) on the intervals [u_j, u_j + du], u_j = u0 + j du; u0 is a multiple
    of du (every table with the same du lies on one lattice: :func:`stack_rate_tables`)."""

    kind: Literal["cevns", "nue"]
    parts: tuple[tuple[Nucleus | None, tuple[Grid, ...]], ...]  # the quadrature, for rate_exact
    s2w: float
    g_v: tuple | None  # CEvNS: SM (g_V^p, g_V^n) per flavour (None: tree level from s2w)
    c0: np.ndarray  # () SM rate [GeV^-2]
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

    def coefficients(self, M_Zp: ArrayLike) -> jax.Array:
        """C[p - 1, j] = weight j of C_p(M_Zp) on (Re Y, Im Y), shape (2, 18) (p = 1, 2; :func:`_dense_map`), at Z' mass
        M_Zp [GeV] (scalar)."""
        return _coefficients(self.cubic[:, :, :, None, :], self.u0, self.du, np.array([self.q2_ref]), M_Zp)[:, 0, :]

    def rate(self, G: ArrayLike, g_f: ArrayLike, M_Zp: ArrayLike) -> jax.Array:
        """Tabulated R(G, g_f, M_Zp) [GeV^-2]: G the 3x3 (complex) Z'-neutrino couplings, g_f the Z' coupling to the
        target fermion (g_q = g_u = g_d for CEvNS, g_e for nu-e), M_Zp in GeV. Pure JAX, scalar arguments (vmap
        for batches)."""
        cubic = self.cubic[:, :, :, None, :]
        return _evaluate(cubic, self.u0, self.du, np.array([self.q2_ref]), np.array([self.sm]), G, g_f, M_Zp)[0]

    def rate_exact(self, G: ArrayLike, g_f: ArrayLike, M_Zp: ArrayLike) -> jax.Array:
        """The same rate as the direct quadrature sum of :mod:`globalfit.physics.scattering` (the reference)."""
        if self.kind == "cevns":
            return sum(rate_cevns(grids, nuc, self.s2w, G, g_f, M_Zp, self.g_v) for nuc, grids in self.parts)
        return sum(rate_nue(grids, self.s2w, G, g_f, M_Zp) for _, grids in self.parts)


SHARED_BASIS_TOLERANCE = 1e-11  # relative to each weight's largest value on the grid (stack_rate_tables)
_SKETCH = 96  # columns of the random sketch that finds the shared basis (stack_rate_tables)


@dataclass(frozen=True, eq=False)
class RateTableStack:
    """Several rate tables read together through a shared basis in ln M (:func:`stack_rate_tables`): one gather of r
    basis functions, whatever the number K of tables, then two products with fixed weights (18 x r K each: (Re Y, Im Y)
    times the weights first, one matrix product over a batch, then the r basis values), so that
    the compiled code and the table read per point do not grow with K. ``rates(G, g_f, M)[k]`` equals ``tables[k].rate(G, g_f[k], M)`` to
    :data:`SHARED_BASIS_TOLERANCE` of the table's coefficients (each table is padded with its constant end values to
    the common range, which is what each table does outside its own range)."""

    tables: tuple[RateTable, ...]
    u0: float
    du: float
    cubic: np.ndarray  # (n - 1, 4, r): Hermite coefficients of the basis functions phi_r(u)
    weights: np.ndarray  # (2, 18, r * K): g_p,k,j(u) = sum_r phi_r(u) weights[p - 1, j, K r + k]
    q2_ref: np.ndarray  # (K,)
    sm: np.ndarray  # (K,)

    @property
    def rank(self) -> int:
        """The number r of shared basis functions."""
        return self.cubic.shape[2]

    def rates(self, G: ArrayLike, g_f: ArrayLike, M_Zp: ArrayLike) -> jax.Array:
        """(R_1, ..., R_K) [GeV^-2] at one point; g_f a scalar (the same coupling for all) or one per table, shape (K,).

        R_k = sm_k + g_k d_k sum_r phi_r (y1 W[0])_{rk} + g_k^2 d_k^2 sum_r phi_r (y2 W[1])_{rk}, with phi_r = phi_r(ln M),
        d_k = 1/(q_ref,k^2 + M^2) and y_p = (Re Y, Im Y) of Y = G, G^2. y_p W[p - 1] first: under vmap one matrix product
        (batch x 18) x (18 x r K), 3x faster at a batch of 64 than the outer product phi y_p against (r 18 x K) weights."""
        u = _log_mass(M_Zp)
        phi = piecewise_cubic(u, self.u0, self.du, self.cubic)  # (r,): one gather
        damp = _damp(u, self.q2_ref)
        G = jnp.asarray(G)
        r, K = self.rank, self.q2_ref.size
        t1, t2 = (phi @ (_re_im(Y) @ self.weights[p]).reshape(r, K) for p, Y in enumerate((G, G @ G)))
        return self.sm + g_f * damp * t1 + g_f**2 * (damp * damp) * t2

    def rates_exact(self, G: ArrayLike, g_f: ArrayLike, M_Zp: ArrayLike) -> jax.Array:
        """The same by the direct quadrature sums (the reference)."""
        g = jnp.broadcast_to(jnp.asarray(g_f, dtype=jnp.float64), (len(self.tables),))
        return jnp.stack([t.rate_exact(G, g[k], M_Zp) for k, t in enumerate(self.tables)])


def _row_space(A: np.ndarray, tol: float) -> np.ndarray:
    """Orthonormal rows V (r, c) spanning A's rows up to its singular values at or below tol (so |A - A V^T V| <= tol
    elementwise). A random sketch (Halko, Martinsson & Tropp, SIAM Rev. 53 (2011) 217) finds the leading singular
    vectors when the spectrum falls below tol within its width; otherwise the full SVD."""
    if min(A.shape) > 2 * _SKETCH:
        Q, _ = np.linalg.qr(A @ np.random.default_rng(0).standard_normal((A.shape[1], _SKETCH)))
        _, s, Vt = np.linalg.svd(Q.T @ A, full_matrices=False)
        if s[-1] < tol:
            return Vt[s > tol]
    _, s, Vt = np.linalg.svd(A, full_matrices=False)
    return Vt[s > tol]


def stack_rate_tables(tables: Sequence[RateTable], tol: float = SHARED_BASIS_TOLERANCE) -> RateTableStack:
    """Stack tables built with the same ``points_per_unit`` into one :class:`RateTableStack`.

    The tables' weight functions g_p,j(u) (module doc), padded to the common lattice, are the columns of a matrix of
    their node values over their node slopes du g'_p,j, each column scaled to largest value 1. They share a few shapes
    in u (all are sums of propagator powers over the nodes' q^2): the matrix's singular values fall from O(1) below
    1e-11 within ~20 (full_B's 9 tables: 20; 39 with the binned XENONnT: 22). The rows V (r, columns) of its singular
    values above ``tol`` give the basis phi = values V^T (slopes: slopes V^T; Hermite in u, like each table) and the
    weights V times the column scales, so every g_p,j is reproduced to ``tol`` of its largest value at the nodes."""
    tables = tuple(tables)
    if not tables:
        raise ValueError("stack_rate_tables needs at least one table")
    du = tables[0].du
    if any(t.du != du for t in tables):
        raise ValueError(f"stack_rate_tables: the tables have different steps in ln M {sorted({t.du for t in tables})}; "
                         "build them with the same points_per_unit")
    starts = [round(t.u0 / du) for t in tables]
    ends = [j + t.cubic.shape[0] for j, t in zip(starts, tables)]  # index of the last node
    j_lo, j_hi = min(starts), max(ends)
    values, slopes = [], []  # at the nodes of the common lattice, (n, 2, 18) per table
    for j0, j1, t in zip(starts, ends, tables):
        f = np.concatenate([t.cubic[:, 0], t.cubic[-1:].sum(axis=1)])  # g at the nodes
        d = np.concatenate([t.cubic[:, 1], t.cubic[-1:, 1] + 2 * t.cubic[-1:, 2] + 3 * t.cubic[-1:, 3]])  # du g'
        values.append(np.concatenate([np.repeat(f[:1], j0 - j_lo, 0), f, np.repeat(f[-1:], j_hi - j1, 0)]))
        slopes.append(np.pad(d, ((j0 - j_lo, j_hi - j1), (0, 0), (0, 0))))  # constant outside: zero slope
    n, K = j_hi - j_lo + 1, len(tables)
    f, d = (np.stack(x, axis=2).reshape(n, 2 * K * 18) for x in (values, slopes))
    scale = np.maximum(np.abs(f).max(axis=0), np.abs(d).max(axis=0))
    scale[scale == 0] = 1.0
    with one_blas_thread():  # QR, SVD and products: the same basis in every process, as the tables
        V = _row_space(np.concatenate([f, d]) / scale, tol)
        basis = hermite_coefficients((f / scale) @ V.T, (d / scale) @ V.T / du, du)  # (n - 1, 4, r)
    r = V.shape[0]
    weights = np.ascontiguousarray((V * scale).reshape(r, 2, K, 18).transpose(1, 3, 0, 2).reshape(2, 18, r * K))
    return RateTableStack(tables, j_lo * du, du, basis, weights, np.array([t.q2_ref for t in tables]),
                          np.array([t.sm for t in tables]))


# ---------------------------------------------------------------------------------------------- node coefficients


def _collect(per_grid: list[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]]) -> _Nodes:
    """Concatenate the nodes of every grid (a, b (n, 9), c (n, 9), q2), dropping nodes that contribute nothing."""
    a, b, c, q2 = (np.concatenate([r[k] for r in per_grid]) for k in range(4))
    keep = (a != 0) | np.any(b != 0, axis=1) | np.any(c != 0, axis=1)
    return _Nodes(a[keep], b[keep], c[keep], q2[keep])


def _state(g: Grid) -> tuple[np.ndarray, np.ndarray]:
    """(psi, rho = psi psi^dagger) of a grid's incoming neutrino."""
    psi = g.psi
    return psi, np.outer(psi, psi.conj())


def _kinematic_weight(x, nucleus: Nucleus):
    """:func:`cevns_kinematic_weight` at the nodes x = (E, T, F^2) (for :func:`on_grid`)."""
    return cevns_kinematic_weight(x[0], x[1], nucleus, x[2])


def _cevns_nodes(parts, s2w: float, g_v=None) -> _Nodes:
    k = eps_normalisation()
    rows = []
    for nuc, grids in parts:
        a3 = 3.0 * (nuc.Z + nuc.N)
        q = np.array([cevns_charge_sm(nuc, s2w, None if g_v is None else g_v[b]) for b in range(3)])
        for g in grids:
            psi, rho = _state(g)
            D = np.diag(q)
            K = g.w * (np.asarray(cevns_kinematic_weight(g.E, g.T, nuc)) if g.ff2 is None
                       else on_grid(_kinematic_weight, np.stack([g.E, g.T, g.ff2]), nuc))
            a = float(np.real(psi.conj() @ (q**2 * psi))) * K
            B = _channels(rho @ D + D @ rho) * a3 * k
            C = _channels(rho) * (a3 * k) ** 2
            rows.append((a, K[:, None] * B, K[:, None] * C, np.asarray(g.q2)))
    return _collect(rows)


def _nue_nodes(grids, s2w: float) -> _Nodes:
    k = eps_normalisation()
    rows = []
    for g in grids:
        psi, rho = _state(g)
        gL, gR = (np.array(x) for x in zip(*(nue_couplings(b, g.anti, s2w) for b in range(3))))
        if g.anti:
            gL, gR = gR, gL
        DL, DR = np.diag(gL), np.diag(gR)
        kL, kR, kLR = (g.w * np.asarray(x) for x in nue_kinematic_weights(g.E, g.T))
        sq = lambda X: float(np.real(psi.conj() @ X @ psi))  # noqa: E731
        a = sq(DL @ DL) * kL + sq(DR @ DR) * kR - sq(DL @ DR) * kLR
        anti = lambda D: _channels(rho @ D + D @ rho)  # noqa: E731  (rho D + D rho)
        B = 0.5 * k * (kL[:, None] * anti(DL) + kR[:, None] * anti(DR) - 0.5 * kLR[:, None] * anti(DL + DR))
        C = 0.25 * k**2 * (kL + kR - kLR)[:, None] * _channels(rho)
        rows.append((a, B, C, np.asarray(g.q2)))
    return _collect(rows)


# ---------------------------------------------------------------------------------------------- tabulation


def _q2_ref(nodes: _Nodes) -> float:
    w, q2 = np.abs(nodes.c).sum(axis=1), nodes.q2
    if w.sum() <= 0:
        raise ValueError("rate table: the grids have no node with non-zero weight")
    return float(np.exp(np.sum(w * np.log(q2)) / np.sum(w)))


def _tabulate(nodes: _Nodes, points_per_unit: int) -> dict[str, np.ndarray]:
    """g_p(u) = C_p (q_ref^2 + M^2)^p and dg_p/du on the uniform u grid (module doc), 9 channels per p."""
    q2_all = nodes.q2
    q2_ref = _q2_ref(nodes)
    u_lo = min(math.log(M_COVERED[0]), 0.5 * math.log(q2_all.min()) + math.log(_BELOW_Q_MIN))
    u_hi = max(math.log(M_COVERED[1]), 0.5 * math.log(q2_all.max()) + math.log(_ABOVE_Q_MAX))
    du = 1.0 / points_per_unit
    j_lo, j_hi = math.floor(u_lo / du), math.ceil(u_hi / du)  # on the lattice u_j = j du
    n = j_hi - j_lo + 1
    u_lo = j_lo * du
    u = du * np.arange(j_lo, j_hi + 1)
    M2 = np.exp(2.0 * u)
    s = q2_ref + M2
    values, slopes = np.zeros((n, 2 * _NCH)), np.zeros((n, 2 * _NCH))
    nd = nodes
    for j0 in range(0, n, 256):
        sl = slice(j0, min(j0 + 256, n))
        P = 1.0 / (nd.q2[None, :] + M2[sl, None])  # (chunk, nodes)
        P2 = P * P
        for p, coef, Pp, Pp1 in ((1, nd.b, P, P2), (2, nd.c, P2, P2 * P)):
            C = Pp @ coef  # (chunk, 9)
            dC = -2.0 * p * M2[sl, None] * (Pp1 @ coef)  # dC/du, u = ln M
            cols = slice(_NCH * (p - 1), _NCH * p)
            values[sl, cols] = C * s[sl, None] ** p
            slopes[sl, cols] = dC * s[sl, None] ** p + C * (p * s[sl] ** (p - 1) * 2.0 * M2[sl])[:, None]
    return {"c0": np.float64(np.sum(nd.a)), "q2_ref": np.float64(q2_ref), "u0": np.float64(u_lo),
            "du": np.float64(du), "values": values, "slopes": slopes}


# ---------------------------------------------------------------------------------------------- disk cache


def cache_dir() -> Path | None:
    """Directory of the table cache (tables go to its ``rates/``): $GLOBALFIT_CACHE (``off``, ``none``, ``0``: no
    disk cache), else $XDG_CACHE_HOME/globalfit, else ~/.cache/globalfit."""
    env = os.environ.get("GLOBALFIT_CACHE")
    if env is not None and env.strip():
        return None if env.strip().lower() in ("off", "none", "0") else Path(env).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "globalfit"


def _key(kind: str, nodes: _Nodes, points_per_unit: int) -> str:
    h = hashlib.sha256(f"{_FORMAT}|{kind}|{points_per_unit}|{M_COVERED}|{_BELOW_Q_MIN}|{_ABOVE_Q_MAX}".encode())
    for arr in (nodes.a, nodes.b, nodes.c, nodes.q2):
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
    ok = out["c0"].shape == () and out["values"].ndim == 2 and out["values"].shape[1] == 2 * _NCH
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


def _table(kind: str, nodes: _Nodes, points_per_unit: int, cache: bool) -> dict[str, np.ndarray]:
    if not (isinstance(points_per_unit, int) and 8 <= points_per_unit <= 4096):
        raise ValueError(f"points_per_unit must be an integer in [8, 4096], got {points_per_unit!r}")
    root = cache_dir() if cache else None
    key = _key(kind, nodes, points_per_unit)
    path = root / "rates" / f"{kind}-{key[:32]}.npz" if root is not None else None
    table = _load(path, key) if path is not None else None
    if table is None:
        with one_blas_thread():  # the same bits in every process (its products depend on the BLAS threads)
            table = _tabulate(nodes, points_per_unit)
        if path is not None:
            _store(path, key, table)
    return table


def _build(kind, parts, s2w, g_v, nodes, points_per_unit, cache) -> RateTable:
    t = _table(kind, nodes, points_per_unit, cache)
    du = float(t["du"])
    return RateTable(kind, parts, float(s2w), g_v, t["c0"], float(t["q2_ref"]), float(t["u0"]), du,
                     hermite_coefficients(t["values"].reshape(-1, 2, _NCH), t["slopes"].reshape(-1, 2, _NCH), du) @ _DENSE)


def cevns_rate_table(parts: Sequence[tuple[Nucleus, Sequence[Grid]]], s2w: float, *, g_v=None, points_per_unit: int = 64,
                     cache: bool = True) -> RateTable:
    """Rate table of CEvNS on a target made of one or more nuclei in equal numbers: ``parts`` = ((nucleus, grids), ...)
    with grids from :func:`globalfit.physics.scattering.grid` (``A_form_factor`` set). The rate is that of
    ``sum(rate_cevns(grids, nucleus, s2w, G, g_q, M, g_v) for nucleus, grids in parts)`` (``g_v``: the SM
    (g_V^p, g_V^n) per flavour, None for tree level). ``cache=False`` bypasses the disk cache."""
    parts = tuple((nuc, tuple(grids)) for nuc, grids in parts)
    for nuc, grids in parts:
        if any(g.ff2 is None for g in grids):
            raise ValueError(f"cevns_rate_table: grids on {nuc.name} need the form factor (grid(..., A_form_factor=A))")
    with jax.ensure_compile_time_eval():  # concrete even when first built inside a traced function
        nodes = _cevns_nodes(parts, s2w, g_v)
    return _build("cevns", parts, s2w, None if g_v is None else tuple(tuple(map(float, x)) for x in g_v), nodes,
                  points_per_unit, cache)


def cevns_rate_sm(parts: Sequence[tuple[Nucleus, Sequence[Grid]]], s2w: float, *, g_v=None) -> float:
    """The Standard-Model rate [GeV^-2] of :func:`cevns_rate_table` for the same arguments (its ``sm``), summed over
    the quadrature nodes without building the table."""
    parts = tuple((nuc, tuple(grids)) for nuc, grids in parts)
    return float(np.sum(_cevns_nodes(parts, s2w, g_v).a))


def nue_rate_table(grids: Sequence[Grid], s2w: float, *, points_per_unit: int = 64, cache: bool = True) -> RateTable:
    """Rate table of nu-e elastic scattering: the rate of ``rate_nue(grids, s2w, G, g_e, M)``. ``cache=False``
    bypasses the disk cache."""
    grids = tuple(grids)
    with jax.ensure_compile_time_eval():  # concrete even when first built inside a traced function
        nodes = _nue_nodes(grids, s2w)
    return _build("nue", ((None, grids),), s2w, None, nodes, points_per_unit, cache)
