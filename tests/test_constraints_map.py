"""globalfit/outputs/constraints_map.py and `globalfit constraints`: each constraint alone from the likelihood code,
its 2.71 contour where the likelihood says so, files written once (no overwrite without --force)."""

import numpy as np
import pytest

from globalfit.cli import main
from globalfit.errors import InputError
from globalfit.outputs.constraints_map import NOT_CONSTRAINTS, constraint_names, constraints_map
from globalfit.physics.scenarios import get_scenario
from likelihoods import build_likelihoods, registry
from likelihoods.stats import ALLOWED_DELTA_CHI2


def test_map_is_the_likelihood():
    """Eq. (30) alone: -2 Delta ln L = 2.71 (g <S_B>/M)^2 at every grid point; neutron scattering nothing above 7.4
    MeV, its limit below 2 MeV (review A8) at the top of the grid."""
    cmap = constraints_map("B", grid=(5, 4), M_range=(1e-3, 3e-2), g_range=(1e-7, 1e-3),
                           names=["zp_anomaly_fermion_mass", "zp_neutron_lead"])
    M, g = np.meshgrid(10**cmap.log10_M, 10**cmap.log10_g)
    assert np.allclose(cmap.chi2["zp_anomaly_fermion_mass"], ALLOWED_DELTA_CHI2 * (g * 1e3 / M) ** 2, rtol=1e-9)
    assert np.all(cmap.chi2["zp_neutron_lead"][M > 7.4e-3] == 0.0)
    assert np.all(cmap.chi2["zp_neutron_lead"][(M < 2e-3) & (g == g.max())] > 1e4)
    assert cmap.optional == ("zp_anomaly_fermion_mass",)
    assert cmap.drawn() == ["zp_anomaly_fermion_mass", "zp_neutron_lead"]
    assert {r["name"] for r in cmap.summary() if r["excludes"]} == set(cmap.drawn())


def test_names_and_errors():
    names = constraint_names("B")
    assert "zp_neutron_lead" in names and not set(NOT_CONSTRAINTS) & set(names)
    assert "zp_baryonic_anomaly" not in constraint_names("B", include_optional=False)
    assert "zp_baryonic_pi0" not in constraint_names("L")
    with pytest.raises(InputError, match="zp_neutron_led.*did you mean 'zp_neutron_lead'"):
        constraints_map("B", names=["zp_neutron_led"])
    with pytest.raises(InputError, match="grid"):
        constraints_map("B", grid=(1, 5), names=["zp_neutron_lead"])


def test_joint_likelihoods_are_drawn_as_their_experiments():
    """By default each experiment of a joint likelihood is drawn alone (listing both would count its data twice); the
    joint itself only by name."""
    build_likelihoods({n: None for n in constraint_names("B")}, get_scenario("B"), "test")  # no double listing
    for scenario in ("B", "B-L", "L", "B-3Ltau"):
        names = constraint_names(scenario)
        assert not set(names) & {m for n in names for m in registry()[n].combines}  # what the build above checks
        if scenario == "L":
            continue  # no quark charge: no CEvNS
        assert "cevns_coherent_csi" in names and "cevns_coherent_lar" in names
        assert "cevns_coherent_sns" not in names and "cevns_solar_8b" not in names
        assert "cevns_coherent_sns" in constraint_names(scenario, joint=True)
    cmap = constraints_map("B-L", grid=(3, 2), M_range=(1e-2, 1e-1), g_range=(1e-5, 1e-4), names=["cevns_coherent_sns"])
    assert cmap.drawn() == ["cevns_coherent_sns"]


def test_cli_writes_once(tmp_path, capsys):
    args = ["constraints", "B", "--only", "zp_anomaly_fermion_mass", "--grid", "4", "3", "--out", str(tmp_path)]
    assert main(args) == 0
    out = capsys.readouterr().out
    assert "zp_anomaly_fermion_mass" in out and "(optional)" in out
    assert (tmp_path / "constraints_B.png").stat().st_size > 0 and (tmp_path / "constraints_B.npz").exists()
    assert main(args) == 2
    assert "exists; give --force" in capsys.readouterr().err
    assert main(["constraints", "Q", "--out", str(tmp_path)]) == 2
    assert "unknown" in capsys.readouterr().err


def test_every_constraint_has_its_own_colour_and_line_style():
    """A Fig. 1 analogue draws up to ~20 constraints: no two legend entries may look alike (colour and line style)."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt

    from globalfit.outputs.constraints_map import ConstraintsMap, plot_constraints_map

    lm, lg = np.linspace(-3, 0, 8), np.linspace(-9, -1, 6)
    chi2 = {f"c{k:02d}": np.full((lg.size, lm.size), 1.0 + k) for k in range(24)}  # every one excludes (> 2.71) but c00, c01
    fig = plot_constraints_map(ConstraintsMap("B", lm, lg, chi2, optional=("c05", "c17")))
    handles = fig.axes[0].get_legend().legend_handles
    looks = [(tuple(np.round(matplotlib.colors.to_rgb(h.get_color()), 3)), h.get_linestyle()) for h in handles]
    assert len(looks) == 22 and len(set(looks)) == len(looks)
    plt.close(fig)


def test_legend_names_each_constraint_by_its_label():
    """The figure is meant for a paper: each constraint by its likelihood's legend label (an optional one marked so),
    on logarithmic (M_Z', g_X) axes; a name with no registered likelihood stays as it is."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt

    from globalfit.outputs.constraints_map import ConstraintsMap, plot_constraints_map
    from likelihoods import plot_label, registry

    assert all(cls.label for cls in registry().values())
    lm, lg = np.linspace(-3, 0, 8), np.linspace(-9, -1, 6)
    big, small = np.full((lg.size, lm.size), 10.0), np.full((lg.size, lm.size), 1.0)
    small[-1, -1] = 10.0  # excludes one cell: drawn after the larger region
    chi2 = {"zp_baryonic_pi0": big, "zp_baryonic_anomaly": small, "c00": big}
    fig = plot_constraints_map(ConstraintsMap("B", lm, lg, chi2, optional=("zp_baryonic_anomaly",)))
    ax = fig.axes[0]
    texts = [t.get_text() for t in ax.get_legend().get_texts()]
    assert texts == [plot_label("zp_baryonic_pi0"), "c00",
                     r"$K \to \pi Z'$, $B \to K Z'$, $Z \to \gamma Z'$ (anomaly, digitised; optional)"]
    assert ax.get_xscale() == "log" and ax.get_yscale() == "log"
    assert ax.get_xlim() == pytest.approx((1e-3, 1.0)) and ax.get_ylim() == pytest.approx((1e-9, 1e-1))
    plt.close(fig)
