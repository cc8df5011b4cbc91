"""Tabulated scattering rates (globalfit.physics.rates) against the direct quadrature of globalfit.physics.scattering,
for every source/target combination the CEvNS and nu-e likelihoods use, over the whole prior box."""

import functools
import math
import re

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from globalfit.physics import rates
from globalfit.physics import scattering as sc
from globalfit.physics.constants import constants
from likelihoods.cevns import csi_recoil_window

G_MAX = 3.51  # largest |G_ab| of the priors: g_X + g_Psi |kappa|^2 <= 1e-2 + 3.5 (|kappa| < 1 support)


def _b8_components():
    """8B at Earth as the mass eigenstates nu_1,2,3 (adiabatic MSW at 100 N_A/cm^3), flavour states U[:, i], as in CEvNS."""
    E = np.linspace(1e-5, sc.B8_Q_GEV, 2000)
    norm = np.sum(sc.b8_pdf(E))
    P = sc.solar_mass_fractions(E, 100.0)
    return sc.solar_components([(float(np.sum(sc.b8_pdf(E) * P[i]) / norm),
                                 lambda E, i=i: sc.b8_pdf(E) * sc.solar_mass_fractions(E, 100.0)[i]) for i in range(3)],
                               E_lo=0.0, E_hi=sc.B8_Q_GEV)


def _cevns(names, T_lo, T_hi, comps, n_E, n_T):
    s2w = sc.sin2w()
    parts = [(sc.NUCLEI[n], [sc.grid(c, sc.NUCLEI[n].mass, T_lo, T_hi, n_E=n_E, n_T=n_T, A_form_factor=sc.NUCLEI[n].A)
                             for c in comps]) for n in names]
    return rates.cevns_rate_table(parts, s2w, cache=False)


def _nue(comps, T_lo, T_hi, **kw):
    me = constants().m_e
    return rates.nue_rate_table([sc.grid(c, me, T_lo, T_hi, **kw) for c in comps], sc.sin2w(), cache=False)


TARGETS = {
    "sns_csi": lambda: _cevns(("Cs", "I"), *csi_recoil_window(), sc.sns_components(), 40, 24),
    "sns_ar": lambda: _cevns(("Ar",), 20e-6, np.inf, sc.sns_components(), 40, 24),
    "b8_xe_0.33": lambda: _cevns(("Xe",), 0.33e-6, np.inf, _b8_components(), 48, 24),
    "b8_xe_0.5": lambda: _cevns(("Xe",), 0.5e-6, np.inf, _b8_components(), 48, 24),
    "b8_xe_1.1": lambda: _cevns(("Xe",), 1.1e-6, np.inf, _b8_components(), 48, 24),
    "be7_e": lambda: _nue(sc.be7_components(float(sc.p_ee_adiabatic(sc.BE7_LINE_GEV, 90.0))), 0.19e-3, np.inf, n_T=48),
    "reactor_e": lambda: _nue((sc.Component(0, True, 1.0, pdf=sc.reactor_pdf, E_lo=1.8e-3, E_hi=10e-3),), 3e-3, 8e-3,
                              n_E=48, n_T=24),
    "charm2_e": lambda: _nue((sc.Component(1, False, 1.0, E_line=23.7),), 3.0, 24.0, n_T=48),
}


@functools.lru_cache(maxsize=None)
def _table(name):
    return TARGETS[name]()


def _value_and_grad(*fns):
    """jit(vmap) of (R, (dR/dM, dR/dg, dR/dRe G, dR/dIm G)) of each fn(G, g, M), in one compiled function."""

    def vg(fn):
        return jax.value_and_grad(lambda M, g, re, im: fn(re + 1j * im, g, M), argnums=(0, 1, 2, 3))

    return jax.jit(jax.vmap(lambda *args: tuple(vg(fn)(*args) for fn in fns)))


def _prior_box_points(table, rng):
    lo, hi = table.mass_range
    M = np.concatenate([np.geomspace(1e-4, 1.0, 13), [1e-5, 10.0, lo, hi, 0.5 * lo, 2.0 * hi]])
    n = M.size
    mod = G_MAX * rng.random((n, 3, 3))
    phase = rng.uniform(-math.pi, math.pi, (n, 3, 3))
    g = 10.0 ** rng.uniform(-10, -2, n)
    g[:4] = (1e-10, 1e-6, 1e-3, 1e-2)
    mod[-1] = 0.0  # G = 0
    re, im = mod * np.cos(phase), mod * np.sin(phase)
    return M, g, *_hermitian(re, im)


def _hermitian(re, im):
    """(Re, Im) of the Hermitian part of re + i im (G is Hermitian in the model: couplings.py)."""
    t = (0, 2, 1) if re.ndim == 3 else (1, 0)
    return 0.5 * (re + re.transpose(t)), 0.5 * (im - im.transpose(t))


def _nodes(table):
    if table.kind == "cevns":
        return rates._cevns_nodes(table.parts, table.s2w)
    return rates._nue_nodes(table.parts[0][1], table.s2w)


def _direct_value_and_grad(table, M, g, re, im):
    """R and its gradient by the direct sum over the quadrature nodes (the algebra of the module doc, not the table):
    R = sum a_i + g Re Tr[B G] P_i + g^2 Re Tr[C G^2] P_i^2 over nodes, P_i = 1/(q_i^2 + M^2)."""
    nd = _nodes(table)
    b, c, q2 = (jnp.asarray(x) for x in (nd.b, nd.c, nd.q2))

    def R(M, g, re, im):
        G = re + 1j * im
        P = 1.0 / (q2 + M**2)
        return table.sm + g * (P @ b) @ rates._features(G) + g**2 * ((P * P) @ c) @ rates._features(G @ G)

    ((r, d),) = _value_and_grad(lambda G, g, M: R(M, g, jnp.real(G), jnp.imag(G)))(M, g, re, im)
    return np.asarray(r), d


def _hermitian_directions(d):
    """(dR/dM, dR/dg, dR/dRe G, dR/dIm G) with the G gradients projected on Hermitian directions: G is Hermitian in
    the model, and the table (Tr[C G^2]) and the quadrature (|G psi|^2) are the same function only there."""
    dM, dg, dre, dim = (np.asarray(x) for x in d)
    return dM, dg, 0.5 * (dre + dre.transpose(0, 2, 1)), 0.5 * (dim - dim.transpose(0, 2, 1))


def _assert_gradients_close(d_tab, d_ref, R, M, g):
    """Relative 1e-5, with a floor of 1e-9 of the natural scale R/x (for a component that cancels to ~0)."""
    d_tab, d_ref = _hermitian_directions(d_tab), _hermitian_directions(d_ref)
    scales = (R / M, R / np.where(g > 0, g, 1.0), R[:, None, None] / G_MAX, R[:, None, None] / G_MAX)
    for what, a, b, s in zip(("M", "g_f", "Re G", "Im G"), d_tab, d_ref, scales):
        assert np.all(np.isfinite(a)), what
        np.testing.assert_array_less(np.abs(a - b), 1e-5 * np.abs(b) + 1e-9 * np.abs(s) + 1e-300, err_msg=what)


@pytest.mark.parametrize("name", list(TARGETS))
def test_table_matches_direct_quadrature_over_prior_box(name):
    table = _table(name)
    M, g, re, im = _prior_box_points(table, np.random.default_rng(7))
    ((r_tab, d_tab),) = _value_and_grad(table.rate)(M, g, re, im)
    r_ex = jax.jit(jax.vmap(lambda M, g, re, im: table.rate_exact(re + 1j * im, g, M)))(M, g, re, im)
    assert table.sm == pytest.approx(float(table.rate_exact(jnp.zeros((3, 3)), 0.0, 1.0)), rel=1e-13)
    np.testing.assert_allclose(r_tab, r_ex, rtol=1e-6, atol=0)
    r_direct, d_direct = _direct_value_and_grad(table, M, g, re, im)
    np.testing.assert_allclose(r_direct, r_ex, rtol=1e-12, atol=0)  # the algebra of the module doc
    _assert_gradients_close(d_tab, d_direct, r_direct, M, g)


@pytest.mark.parametrize("name", ["sns_ar", "be7_e"])
def test_gradients_match_exact_path(name):
    table = _table(name)
    M, g, re, im = _prior_box_points(table, np.random.default_rng(8))
    (_, d_tab), (r_ex, d_ex) = _value_and_grad(table.rate, table.rate_exact)(M, g, re, im)
    _assert_gradients_close(d_tab, d_ex, np.asarray(r_ex), M, g)


def test_finite_values_and_gradients_for_any_mass_and_zero_coupling():
    table = _table("charm2_e")
    M = np.concatenate([np.geomspace(1e-30, 1e30, 58), [5e-324, 1e-300, 1.7e308]])
    n = M.size
    rng = np.random.default_rng(3)
    re, im = G_MAX * rng.random((n, 3, 3)), G_MAX * rng.random((n, 3, 3))
    re[::2], im[::2] = 0.0, 0.0
    g = np.where(np.arange(n) % 3 == 0, 0.0, 1e-2)
    ((r, grads),) = _value_and_grad(table.rate)(M, g, re, im)
    assert np.all(np.isfinite(r)) and all(np.all(np.isfinite(x)) for x in grads)
    # beyond the grid: the exact asymptotic forms (C constant as M -> 0, ~ M^-2p as M -> inf)
    c_lo, c_hi = (np.asarray(table.coefficients(m)) for m in (1e-30, 1e30))
    ex_lo, ex_hi = (_direct_coefficients(table, m) for m in (1e-30, 1e30))
    np.testing.assert_allclose(c_lo, ex_lo, rtol=1e-10)
    np.testing.assert_allclose(c_hi, ex_hi, rtol=1e-9)


def _direct_coefficients(table, M):
    """[C1, C2] (as weights on (Re Y, Im Y), rates._dense_map) by the direct sum over nodes (independent of the tabulation)."""
    nd = rates._nue_nodes(table.parts[0][1], table.s2w)
    P = 1.0 / (nd.q2 + M**2)
    return np.array([P @ nd.b, (P * P) @ nd.c]) @ rates._DENSE


def test_compiled_tabulated_rate_has_no_while_loop():
    table = _table("sns_csi")
    f = jax.jit(jax.value_and_grad(lambda M, g, G: table.rate(G, g, M), argnums=(0, 1, 2), holomorphic=False))
    lowered = f.lower(0.01, 1e-5, jnp.eye(3) * 0.1)
    assert "stablehlo.while" not in lowered.as_text()
    assert not re.search(r"\bwhile\(", lowered.compile().as_text())


def test_stack_reads_every_table_at_once():
    tables = [_table(n) for n in ("sns_csi", "b8_xe_0.33", "be7_e", "charm2_e")]
    stack = rates.stack_rate_tables(tables)
    lo = min(t.mass_range[0] for t in tables)
    hi = max(t.mass_range[1] for t in tables)
    M = np.array([0.1 * lo, lo, 1e-9, 1e-6, 1e-3, 0.3, 50.0, hi, 10 * hi])
    rng = np.random.default_rng(5)
    re, im = _hermitian(G_MAX * rng.random((M.size, 3, 3)), G_MAX * rng.random((M.size, 3, 3)))
    G = re + 1j * im
    g = np.array([1e-3, 1e-4, 1e-5, 1e-6])
    got = jax.jit(jax.vmap(stack.rates, (0, None, 0)))(G, g, M)
    slope = jax.jit(jax.vmap(jax.jacfwd(stack.rates, argnums=2), (0, None, 0)))(G, g, M)
    assert stack.rank <= 30  # a shared basis of a few functions of ln M, not one per table and weight
    for k, t in enumerate(tables):
        want = jax.jit(jax.vmap(t.rate, (0, None, 0)))(G, g[k], M)
        # the NSI part R - R_SM to the shared basis' tolerance (1e-11 of each weight's largest value)
        np.testing.assert_allclose(got[:, k] - t.sm, want - t.sm, rtol=1e-9, atol=1e-14 * t.sm)
        want_slope = jax.jit(jax.vmap(jax.grad(t.rate, argnums=2), (0, None, 0)))(G, g[k], M)
        # dR/d ln M to 1e-9 of the NSI part (where g_p is flat in ln M, its slope is tiny and the error absolute)
        assert np.all(np.abs(M * (slope[:, k] - want_slope)) <= 1e-7 * np.abs(M * want_slope) + 1e-9 * np.abs(want - t.sm))
    np.testing.assert_allclose(stack.rates_exact(G[4], g, M[4]), got[4], rtol=1e-6)
    text = jax.jit(jax.grad(lambda M: jnp.sum(stack.rates(G[0], 1e-4, M)))).lower(0.01).as_text()
    assert "stablehlo.while" not in text
    assert text.count("stablehlo.gather") + text.count("stablehlo.dynamic_slice") == 1  # one table read for all
    coarse = rates.nue_rate_table(tables[-1].parts[0][1], tables[-1].s2w, points_per_unit=32, cache=False)
    with pytest.raises(ValueError, match="points_per_unit"):
        rates.stack_rate_tables([tables[0], coarse])


def test_cache_round_trip_and_unwritable_directory(tmp_path, monkeypatch):
    grids = [sc.grid(sc.Component(1, False, 1.0, E_line=23.7), constants().m_e, 3.0, 24.0, n_T=16)]
    s2w = sc.sin2w()
    monkeypatch.setenv("GLOBALFIT_CACHE", str(tmp_path / "cache"))
    first = rates.nue_rate_table(grids, s2w)
    files = list((tmp_path / "cache" / "rates").glob("nue-*.npz"))
    assert len(files) == 1 and not list((tmp_path / "cache" / "rates").glob("*.tmp"))
    again = rates.nue_rate_table(grids, s2w)
    np.testing.assert_array_equal(again.cubic, first.cubic)
    # another option is another entry; a damaged file is recomputed and replaced
    rates.nue_rate_table(grids, s2w, points_per_unit=32)
    assert len(list((tmp_path / "cache" / "rates").glob("nue-*.npz"))) == 2
    files[0].write_bytes(b"not a table")
    np.testing.assert_array_equal(rates.nue_rate_table(grids, s2w).cubic, first.cubic)
    # a cache location that cannot be created (below a regular file): computed, nothing raised
    (tmp_path / "file").write_text("x")
    monkeypatch.setenv("GLOBALFIT_CACHE", str(tmp_path / "file" / "cache"))
    np.testing.assert_array_equal(rates.nue_rate_table(grids, s2w).cubic, first.cubic)
    bypass = rates.nue_rate_table(grids, s2w, cache=False)
    np.testing.assert_array_equal(bypass.cubic, first.cubic)
    monkeypatch.setenv("GLOBALFIT_CACHE", "off")
    assert rates.cache_dir() is None
    np.testing.assert_array_equal(rates.nue_rate_table(grids, s2w).cubic, first.cubic)
    with pytest.raises(ValueError, match="points_per_unit"):
        rates.nue_rate_table(grids, s2w, points_per_unit=2)


_TABLE_BITS = """
import hashlib, sys
import numpy as np
from globalfit.problem import load_problem
stack = load_problem(sys.argv[1]).rates.stack
h = hashlib.sha256()
for a in [stack.cubic, stack.weights] + [t.cubic for t in stack.tables]:
    h.update(np.ascontiguousarray(a, dtype=np.float64).tobytes())
print(h.hexdigest())
"""


def test_tables_hold_the_same_bits_whatever_the_blas_threads():
    """The rate tables of full_B and their shared basis, built (no disk cache) with numpy's BLAS on
    one and on two threads, are the same to the last bit: a Dask worker's BLAS runs on one thread, the client's on
    every core, and a profile map must be the same on every path (physics.numerics.one_blas_thread)."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent
    digests = []
    for threads in ("1", "2"):
        env = dict(os.environ, GLOBALFIT_CACHE="off", OPENBLAS_NUM_THREADS=threads, OMP_NUM_THREADS=threads, JAX_PLATFORMS="cpu",
                   PYTHONPATH=str(root) + os.pathsep + os.environ.get("PYTHONPATH", ""))
        out = subprocess.run([sys.executable, "-c", _TABLE_BITS, str(root / "runs" / "full_B.yaml")], env=env, capture_output=True, text=True, timeout=600)
        assert out.returncode == 0, out.stderr[-2000:]
        digests.append(out.stdout.strip())
    assert digests[0] == digests[1]
