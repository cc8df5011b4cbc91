"""Every registered likelihood, in every scenario it applies to: finite log L and gradient across the prior box
(random points and extreme corners), and the registry contract (names, references, option errors)."""

import importlib
import re

import numpy as np
import pytest

from globalfit.errors import ConfigError
from globalfit.physics.model import observable_names, observables
from globalfit.physics.scenarios import Scenario, get_scenario
from likelihoods import build_likelihood, build_likelihoods, check_requirements, default_likelihoods, describe_all, registry
from tests.helpers import box_points, check_finite, point

SCENARIOS = ["B", "B-L", "L", "B-3Ltau"]
# compile-bound (~40 s each): B in the default run (the most likelihoods), the others with -m slow (CONTRIBUTING.md)
SCENARIOS_TIERED = [pytest.param(s, marks=pytest.mark.slow) if s != "B" else s for s in SCENARIOS]
# an arXiv id (new or old style), a DOI, or a PDG identifier (e.g. S009.15, M002R72, S035.102)
SOURCE_ID = re.compile(r"arXiv:(\d{4}\.\d{4,5}|[a-z-]+(\.[A-Z]{2})?/\d{7})|\bdoi:\s*10\.|\b10\.\d{4,9}/\S+|\bPDG\b[^;]*?\b[A-Z]\d{3}[.R]\d+")

_points = box_points


def _applicable(scenario):
    return {n: None for n, cls in registry().items() if cls.applies(get_scenario(scenario))}


@pytest.mark.parametrize("scenario", SCENARIOS_TIERED)
def test_finite_value_and_gradient_over_prior_box(scenario, rng):
    if not _applicable(scenario):
        pytest.skip("no likelihood applies")
    check_finite(tuple((n, ()) for n in _applicable(scenario)), scenario, rng, n=256, at_most=1e-9)


def test_registry_entries_are_documented():
    rows = describe_all()
    assert rows, "no likelihood registered"
    for r in rows:
        assert r["reference"] and r["constrains"] and r["data_edition"] and r["label"]
        assert SOURCE_ID.search(r["reference"]), f"{r['name']}: reference {r['reference']!r} names no arXiv id, DOI or PDG identifier"
    for cls in registry().values():
        mod = importlib.import_module(cls.__module__)
        assert mod.__doc__ and len(mod.__doc__) > 200, f"{mod.__name__} needs a docstring saying how it is built"


def test_unknown_likelihood_and_option_errors():
    with pytest.raises(ConfigError, match=r"run.yaml: likelihoods.lfv_radiativ: unknown likelihood \(did you mean 'lfv_radiative'\?\)"):
        build_likelihoods({"lfv_radiativ": None}, "B", where="run.yaml")
    with pytest.raises(ConfigError, match=r"likelihoods.lfv_radiative.datset: unknown option \(did you mean 'dataset'\?\)"):
        build_likelihoods({"lfv_radiative": {"datset": "pdg"}}, "B", where="run.yaml")
    with pytest.raises(ConfigError, match=r"run.yaml: likelihoods.lfv_radiative.dataset: Input should be 'pdg' or 'paper2016', got '2099'"):
        build_likelihoods({"lfv_radiative": {"dataset": "2099"}}, "B", where="run.yaml")
    with pytest.raises(ConfigError, match=r"likelihoods.cevns_xenonnt_8b.threshold_keVnr: Input should be a finite number"):
        build_likelihoods({"cevns_xenonnt_8b": {"threshold_keVnr": float("inf")}}, "B", where="run.yaml")
    with pytest.raises(ConfigError, match=r"likelihoods.lfv_radiative.limit_tau_e: Input should be greater than 0"):
        build_likelihoods({"lfv_radiative": {"limit_tau_e": -1e-8}}, "B", where="run.yaml")
    with pytest.raises(ConfigError, match=r"likelihoods.nu_e_texono: not applicable to scenario B \(it needs a coupling to electrons"):
        build_likelihoods({"nu_e_texono": None}, "B", where="run.yaml")
    with pytest.raises(ConfigError, match=r"likelihoods.unitarity: expected a mapping of options"):
        build_likelihoods({"unitarity": [1, 2]}, "B", where="run.yaml")


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_each_likelihood_reads_only_what_it_declares(scenario):
    """The contract: ``requires`` lists every observable ``loglike`` reads, and the model provides them."""
    sc = get_scenario(scenario)
    lks = [build_likelihood(n, sc) for n in _applicable(scenario)]
    check_requirements(lks, observable_names(sc), where="test")
    obs = observables(point(M_Zp=0.02, g_X=1e-5, y_e=0.3, y_mu=0.1, cos_beta=1e-4), sc)
    for lk in lks:
        assert lk.requires, f"{lk.name} declares no observables"
        value = lk.loglike({k: obs[k] for k in lk.requires})  # a KeyError here is an undeclared read
        assert np.isfinite(float(value)), lk.name


def test_applicability_follows_the_charges():
    """A scenario not in the package's list gets the likelihoods its charges allow (here a U(1)_{L_mu - L_tau})."""
    lmu_ltau = Scenario("Lmu-Ltau", 0.0, (0.0, 1.0, -1.0), r"U(1)_{L_\mu-L_\tau}")
    names = {n for n, cls in registry().items() if cls.applies(lmu_ltau)}
    assert "tau_three_body" in names  # Z' -> mu mu
    assert not names & {"cevns_coherent_csi", "nu_e_texono", "zp_babar_invisible", "zp_baryonic_visible"}
    assert {"unitarity", "osc_icecube_mutau", "lfv_radiative", "psi_peak_searches"} <= names
    assert "osc_lma" not in names  # quark-NSI ranges: no quark coupling, no matter NSI at tree level


def test_default_set_counts_each_data_set_once():
    """The likelihoods used without a config (`globalfit evaluate`, the NaN sweep's widest boxes): every one that
    applies, a joint likelihood in place of those it combines, so that the set builds (no data set twice)."""
    build_likelihoods(default_likelihoods("B"), get_scenario("B"), "test")  # builds: no data set listed twice
    for scenario in SCENARIOS:
        names = default_likelihoods(scenario)
        combined = {m for n in names for m in registry()[n].combines}
        assert set(names) == set(_applicable(scenario)) - combined
        if scenario != "L":  # U(1)_L: no quark charge, no CEvNS
            assert {"cevns_coherent_sns", "cevns_solar_8b"} <= set(names) and "cevns_coherent_csi" in combined
