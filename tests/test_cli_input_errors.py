"""Bad command-line input and output locations: one line ``globalfit: error: ...`` naming the file, the option or key,
what was expected and what was given; exit code 2; nothing a user made is deleted or overwritten without ``--force``;
checked before anything is computed (no sampler, no map, no run directory is read in these tests)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import yaml

from globalfit.cli import main
from globalfit.errors import ConfigError, InputError, OutputError
from globalfit.outputs import chains
from globalfit.outputs.chains import ChainTable, export_getdist
from globalfit.outputs.plots import compare_outputs
from globalfit.outputs.profile_result import load_profile
from globalfit.outputs.rundir import LOCK, prepare_run_dir, run_lock
from globalfit.problem.config import load_config

ROOT = Path(__file__).resolve().parent.parent
QUICKSTART = ROOT / "runs" / "quickstart.yaml"

CONFIG = {
    "model": {"scenario": "B"},
    "params": {"g_X": {"prior": "log-uniform", "min": 1e-8, "max": 1e-2, "ref": 1e-5}, "M_Zp": 0.01, "r_H": 0.5, "g_Psi": -0.5},
    "likelihoods": {"zp_baryonic_pi0": None},
    "sampler": {"chains": 1, "warmup": 10, "draws": 10},
}


def _config(tmp_path: Path, name: str = "c.yaml", **blocks) -> Path:
    data = yaml.safe_load(yaml.safe_dump(CONFIG))
    for key, value in blocks.items():
        if value is None:
            data.pop(key, None)
        elif isinstance(value, dict) and isinstance(data.get(key), dict):
            data[key] = {**data[key], **value}
        else:
            data[key] = value
    path = tmp_path / name
    path.write_text(yaml.safe_dump(data))
    return path


def _refused(capsys, argv: list[str], *fragments: str) -> str:
    """``globalfit ARGV`` exits 2 with one line naming every fragment; returns the line."""
    capsys.readouterr()
    assert main(argv) == 2
    out, err = capsys.readouterr()
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("globalfit: error: "), err
    assert "Traceback" not in out + err
    for f in fragments:
        assert f in lines[0], (f, lines[0])
    return lines[0]


def _one_line(exc: BaseException, *fragments: str) -> None:
    msg = str(exc)
    assert "\n" not in msg, msg
    for f in fragments:
        assert f in msg, (f, msg)


@pytest.mark.parametrize("argv", [
    ["export", "RUN", "--to", ""], ["plot", "RUN", "RUN", "--compare", "--out", " "], ["constraints", "B", "--out", ""],
    ["cobaya", "nowhere.yaml", "--out", ""], ["profile", "nowhere.yaml", "--out", ""], ["evidence", "nowhere.yaml", "--out", ""],
])
def test_an_empty_path_option_is_refused(tmp_path, capsys, argv):
    (tmp_path / "RUN").mkdir()
    argv = [str(tmp_path / a) if a == "RUN" else a for a in argv]
    _refused(capsys, argv, "empty; give a path")


# --- 1, 2: export --------------------------------------------------------------------------------------------------

def test_export_refuses_a_bad_root_or_destination_before_reading_the_run(tmp_path, capsys):
    run = tmp_path / "run"
    run.mkdir()  # not a run directory: each refusal below comes before it is read
    (tmp_path / "afile").write_text("mine")
    _refused(capsys, ["export", str(run), "--root", "a/b"], "--root 'a/b'", "plain file-name stem")
    _refused(capsys, ["export", str(run), "--root", "x*"], "--root 'x*'", "no * ? [ ]")
    _refused(capsys, ["export", str(run), "--root", ""], "--root ''", "empty")
    _refused(capsys, ["export", str(run), "--root", ".."], "--root '..'")
    _refused(capsys, ["export", str(run), "--to", str(tmp_path / "afile")], f"--to {tmp_path / 'afile'}", "not a directory")
    _refused(capsys, ["export", str(run), "--to", str(tmp_path / "afile" / "sub")], "--to", "afile is not a directory")
    assert (tmp_path / "afile").read_text() == "mine"


def _table(n_chains: int) -> ChainTable:
    rng = np.random.default_rng(0)
    return ChainTable(names=["a", "b"], labels=["a", "b"], derived=[False, True], ranges={"a": (0.0, None)},
                      chains=[rng.normal(size=(5, 2)) for _ in range(n_chains)], minuslogpost=[np.zeros(5)] * n_chains)


def test_export_force_replaces_only_the_files_of_an_export(tmp_path, monkeypatch):
    monkeypatch.setattr(chains, "chain_table", lambda idata, cfg, label="": _table(2))
    run, dest = tmp_path / "full_B", tmp_path / "gd"
    run.mkdir()
    dest.mkdir()
    mine = {"full_B_notes.txt": "my notes", "full_B_1.txt.bak": "backup", "full_B_01x.txt": "x", "other_1.txt": "other"}
    for name, text in mine.items():
        (dest / name).write_text(text)
    for name in ("full_B_1.txt", "full_B_3.txt", "full_B.paramnames"):  # an earlier export with 3 chains
        (dest / name).write_text("old")
    with pytest.raises(OutputError) as err:
        export_getdist(run, None, None, dest=dest)
    _one_line(err.value, "full_B.paramnames", "full_B_1.txt", "full_B_3.txt", "use --force")
    assert "notes" not in str(err.value) and (dest / "full_B_3.txt").read_text() == "old"
    files = export_getdist(run, None, None, dest=dest, force=True)
    assert [f.name for f in files] == ["full_B_1.txt", "full_B_2.txt", "full_B.paramnames", "full_B.ranges"]
    assert not (dest / "full_B_3.txt").exists()  # a stale chain of the earlier export would be read by GetDist
    for name, text in mine.items():
        assert (dest / name).read_text() == text, name
    assert (dest / "full_B_1.txt").read_text() != "old"


def test_export_with_only_a_user_file_of_the_root_needs_no_force(tmp_path, monkeypatch):
    monkeypatch.setattr(chains, "chain_table", lambda idata, cfg, label="": _table(1))
    run = tmp_path / "r"
    (run / "getdist").mkdir(parents=True)
    (run / "getdist" / "r_notes.txt").write_text("mine")
    files = export_getdist(run, None, None)
    assert [f.name for f in files] == ["r_1.txt", "r.paramnames", "r.ranges"]
    assert (run / "getdist" / "r_notes.txt").read_text() == "mine"


# --- 3: cobaya --out -----------------------------------------------------------------------------------------------

def test_cobaya_out_must_be_a_file_name(tmp_path, capsys):
    d = tmp_path / "adir"
    d.mkdir()
    _refused(capsys, ["cobaya", str(QUICKSTART), "--out", str(d)], f"--out {d}", "is a directory")
    _refused(capsys, ["cobaya", str(QUICKSTART), "--out", str(d), "--force"], f"--out {d}", "is a directory")
    (tmp_path / "afile").write_text("x")
    _refused(capsys, ["cobaya", str(QUICKSTART), "--out", str(tmp_path / "afile" / "c.yaml")], "afile is not a directory")
    _refused(capsys, ["cobaya", str(QUICKSTART), "--out", str(tmp_path / "afile")], "exists; use --force")
    assert (tmp_path / "afile").read_text() == "x"
    out = tmp_path / "new" / "sub" / "c.yaml"  # missing folders are made, as for evidence --out
    assert main(["cobaya", str(QUICKSTART), "--out", str(out)]) == 0
    assert "likelihood" in yaml.safe_load(out.read_text())


# --- 4: constraints ------------------------------------------------------------------------------------------------

def test_constraints_options_are_checked_before_the_map_is_computed(tmp_path, capsys):
    f = tmp_path / "afile"
    f.write_text("x")
    _refused(capsys, ["constraints", "B", "--out", str(f)], f"--out {f}", "not a directory")
    _refused(capsys, ["constraints", "B", "--out", str(tmp_path), "--grid", "1", "5", "7"], "--grid 1 5 7", "N_M N_g")
    _refused(capsys, ["constraints", "B", "--out", str(tmp_path), "--grid", "1"], "--grid 1", "at least 2")
    _refused(capsys, ["constraints", "B", "--out", str(tmp_path), "--mass-range", "1e-30", "1e30"], "--mass-range 1e-30 1e+30",
             "physical range", "M_Zp=1e-30")
    _refused(capsys, ["constraints", "B", "--out", str(tmp_path), "--coupling-range", "1e-60", "1e3"], "--coupling-range 1e-60 1000",
             "g_X=1e-60")
    _refused(capsys, ["constraints", "B", "--out", str(tmp_path), "--mass-range", "1", "0.1"], "--mass-range 1 0.1", "0 < lo < hi")
    _refused(capsys, ["constraints", "B", "--out", str(tmp_path), "--mass-range", "nan", "1"], "--mass-range nan 1")
    assert f.read_text() == "x" and [p.name for p in tmp_path.iterdir()] == ["afile"]


# --- 5: plot --profile ---------------------------------------------------------------------------------------------

def test_load_profile_refuses_other_files_in_one_line(tmp_path, capsys):
    garbage = tmp_path / "bad.npz"
    garbage.write_bytes(b"not a zip archive at all")
    with pytest.raises(InputError) as err:
        load_profile(garbage)
    _one_line(err.value, str(garbage), "not a globalfit profile file")
    meta_only = tmp_path / "meta_only.npz"
    np.savez(meta_only, meta=np.asarray(json.dumps({"scenario": "B"})))
    with pytest.raises(InputError) as err:
        load_profile(meta_only)
    _one_line(err.value, str(meta_only), "log10_M", "missing")
    arrays = {k: np.zeros(2) for k in ("log10_M", "log10_g", "lnL", "thresholds", "q_max", "q_min")}
    not_json = tmp_path / "not_json.npz"
    np.savez(not_json, meta=np.asarray("{nope"), **arrays)
    with pytest.raises(InputError) as err:
        load_profile(not_json)
    _one_line(err.value, str(not_json), "not JSON")
    short_meta = tmp_path / "short_meta.npz"
    np.savez(short_meta, meta=np.asarray(json.dumps({"scenario": "B"})), **arrays)
    with pytest.raises(InputError) as err:
        load_profile(short_meta)
    _one_line(err.value, str(short_meta), "'lnL_ref'")
    one_array = tmp_path / "one.npy"
    np.save(one_array, np.zeros(3))
    with pytest.raises(InputError) as err:
        load_profile(one_array)
    _one_line(err.value, str(one_array), "not an .npz archive")
    run = tmp_path / "run"
    run.mkdir()  # the profile file is read before the run directory
    _refused(capsys, ["plot", str(run), "--profile", str(garbage)], str(garbage), "not a globalfit profile file")


def test_load_profile_still_reads_a_saved_profile(tmp_path):
    from globalfit.outputs.profile_result import ProfileResult

    z = np.zeros((2, 3))
    r = ProfileResult(log10_M=np.linspace(-3, -1, 3), log10_g=np.linspace(-8, -6, 2), lnL=z - 1.0, lnL_ref=-1.0, quantities=["eps_earth_ee"],
                      thresholds=(2.71, 5.99), q_max=np.zeros((1, 2, 2, 3)), q_min=np.zeros((1, 2, 2, 3)), included=["a"], excluded=[],
                      scenario="B", best={"y_e": z}, seconds=1.5, settings={"grid": 3}, lnL_sm=-2.0)
    back = load_profile(r.save(tmp_path / "profile.npz"))
    assert back.scenario == "B" and back.thresholds == (2.71, 5.99) and back.lnL_sm == -2.0 and back.settings == {"grid": 3}
    np.testing.assert_array_equal(back.best["y_e"], z)
    np.testing.assert_array_equal(back.chi2, r.chi2)


# --- 6: plot --compare ---------------------------------------------------------------------------------------------

def test_compare_refuses_to_overwrite_figures_without_force(tmp_path, capsys, monkeypatch):
    a, b = tmp_path / "a", tmp_path / "b"
    a.mkdir()
    b.mkdir()
    dest = tmp_path / "cmp"
    dest.mkdir()
    (dest / "triangle.png").write_text("earlier figure")
    (dest / "notes.txt").write_text("mine")
    _refused(capsys, ["plot", str(a), str(b), "--compare", "--out", str(dest)], str(dest), "triangle.png", "use --force")
    assert (dest / "triangle.png").read_text() == "earlier figure"
    monkeypatch.chdir(tmp_path)  # the default folder ./compare_a_b
    (tmp_path / "compare_a_b").mkdir()
    (tmp_path / "compare_a_b" / "plane.pdf").write_text("earlier figure")
    _refused(capsys, ["plot", str(a), str(b), "--compare"], "compare_a_b", "plane.pdf", "use --force")
    (tmp_path / "afile").write_text("x")
    _refused(capsys, ["plot", str(a), str(b), "--compare", "--out", str(tmp_path / "afile")], "--out", "not a directory")
    _refused(capsys, ["plot", str(a), "--force"], "--force applies with --compare")
    # with --force the check passes (the figures are then replaced); folders without earlier figures need none
    assert [f.name for f in compare_outputs(dest, force=True)] == ["triangle.pdf", "triangle.png", "plane.pdf", "plane.png"]
    assert len(compare_outputs(tmp_path / "fresh")) == 4 and len(compare_outputs(b)) == 4


# --- 7: a refused run leaves no trace ------------------------------------------------------------------------------

def test_a_refused_run_leaves_no_lock_in_a_users_folder(tmp_path):
    folder = tmp_path / "mine"
    folder.mkdir()
    (folder / "notes.txt").write_text("mine")
    path = _config(tmp_path, output={"dir": str(folder)})
    cfg = load_config(path)
    for force in (False, True):
        with pytest.raises(OutputError) as err:
            with run_lock(folder):
                prepare_run_dir(cfg, path, resume=False, force=force)
        _one_line(err.value, str(folder), "not a globalfit run directory", "output.dir")
        assert sorted(p.name for p in folder.iterdir()) == ["notes.txt"]
    (folder / LOCK).write_text("")  # a lock file that was there before is left as it was
    with pytest.raises(OutputError):
        with run_lock(folder):
            prepare_run_dir(cfg, path, resume=False, force=False)
    assert sorted(p.name for p in folder.iterdir()) == [LOCK, "notes.txt"]


# --- 8, 9: --workers, --seed, --quantity ---------------------------------------------------------------------------

@pytest.mark.parametrize("argv,fragments", [
    (["profile", "nowhere.yaml", "--workers", "0"], ["--workers 0", "at least 1", "--serial"]),
    (["profile", "nowhere.yaml", "--workers", "-3"], ["--workers -3", "at least 1"]),
    (["sweep", "nowhere.yaml", "--workers", "0"], ["--workers 0", "at least 1"]),
    (["profile", "nowhere.yaml", "--seed", "-1"], ["--seed -1: expected an integer in [0, 2^63 - 1]"]),
    (["profile", "nowhere.yaml", "--seed", str(2**63)], [f"--seed {2**63}: expected an integer in [0, 2^63 - 1]"]),
    (["evidence", "nowhere.yaml", "--seed", "-1"], ["--seed -1: expected an integer in [0, 2^63 - 1]"]),
])
def test_engine_counts_and_seeds_are_checked(capsys, argv, fragments):
    _refused(capsys, argv, *fragments)


def test_quantity_needs_a_profile(tmp_path, capsys):
    run = tmp_path / "run"
    run.mkdir()
    _refused(capsys, ["plot", str(run), "--quantity", "eps_foo"], "--quantity eps_foo", "--profile")


# --- 10: run --dry-run ---------------------------------------------------------------------------------------------

def test_dry_run_refuses_a_config_without_output_as_run_does(tmp_path, capsys):
    path = _config(tmp_path, output=None)
    _refused(capsys, ["run", str(path), "--dry-run"], str(path), "output: required key is missing")


# --- 11: strict booleans, non-empty plot lists ---------------------------------------------------------------------

@pytest.mark.parametrize("blocks,fragment", [
    ({"sampler": {"dense_mass": "yes"}}, "sampler.dense_mass: expected true or false, got 'yes'"),
    ({"sampler": {"progress_bar": "no"}}, "sampler.progress_bar: expected true or false, got 'no'"),
    ({"sampler": {"metropolis_adapt": 1}}, "sampler.metropolis_adapt: expected true or false, got 1"),
    ({"params": {"g_X": {"prior": "log-uniform", "min": 1e-8, "max": 1e-2, "negative": "yes"}}},
     "params.g_X.negative: expected true or false, got 'yes'"),
    ({"params": {"g_X": {"prior": "log-uniform", "min": 1e-8, "max": 1e-2, "signed": "on"}}},
     "params.g_X.signed: expected true or false, got 'on'"),
    ({"plots": {"formats": []}}, "plots.formats: expected at least 1 entry, got []"),
    ({"plots": {"corner": []}}, "plots.corner: expected at least 1 entry, got []"),
    ({"sampler": {"chains": 2.5}}, "sampler.chains: expected a whole number, got 2.5"),
])
def test_config_switches_and_lists_are_strict(tmp_path, blocks, fragment):
    path = _config(tmp_path, **blocks)
    with pytest.raises(ConfigError) as err:
        load_config(path)
    _one_line(err.value, str(path), fragment)
    assert str(err.value).count("got") == 1


def test_config_booleans_still_take_true_and_false(tmp_path):
    cfg = load_config(_config(tmp_path, sampler={"dense_mass": True, "progress_bar": False},
                              plots={"formats": ["png"], "corner": ["g_X"]}))
    assert cfg.sampler.dense_mass is True and cfg.sampler.progress_bar is False and cfg.plots.formats == ["png"]


# --- 12: messages name the right place -----------------------------------------------------------------------------

def test_a_bad_key_in_a_base_file_names_that_file(tmp_path):
    parent = _config(tmp_path, "parent.yaml", sampler={"chian": 2})
    child = tmp_path / "child.yaml"
    child.write_text(yaml.safe_dump({"base": "parent.yaml", "sampler": {"draws": 7}}))
    with pytest.raises(ConfigError) as err:
        load_config(child)
    _one_line(err.value, "sampler.chian: unknown key", f"base of {child}")
    assert str(err.value).startswith(f"{parent.resolve()}: ")
    # a key the child sets is still the child's
    child.write_text(yaml.safe_dump({"base": "parent.yaml", "sampler": {"chian": 1, "drwas": 7}}))
    (tmp_path / "parent.yaml").write_text(yaml.safe_dump(CONFIG))
    with pytest.raises(ConfigError) as err:
        load_config(child)
    assert str(err.value).startswith(f"{child}: sampler.chian: unknown key") and "base of" not in str(err.value)


def test_a_bad_entry_of_a_prior_set_names_the_prior_set(tmp_path):
    (tmp_path / "priors").mkdir()
    prior_file = tmp_path / "priors" / "cli_input_errors_set.yaml"
    prior_file.write_text(yaml.safe_dump({"params": {"y_e": {"prior": "uniform", "min": 0.0, "max": 1.0, "mx": 2}}}))
    path = _config(tmp_path, priors="cli_input_errors_set")
    with pytest.raises(ConfigError) as err:
        load_config(path)
    _one_line(err.value, f"{prior_file}: params.y_e.mx: unknown key", f"prior set of {path}")


def test_a_base_cycle_prints_the_files_of_the_cycle(tmp_path, capsys):
    (tmp_path / "cyc_a.yaml").write_text(yaml.safe_dump({"base": "cyc_b.yaml"}))
    (tmp_path / "cyc_b.yaml").write_text(yaml.safe_dump({"base": "cyc_a.yaml"}))
    with pytest.raises(ConfigError) as err:
        load_config(tmp_path / "cyc_a.yaml")
    _one_line(err.value, "includes itself (cycle cyc_a.yaml -> cyc_b.yaml -> cyc_a.yaml)")
    (tmp_path / "self.yaml").write_text(yaml.safe_dump({"base": "self.yaml"}))
    with pytest.raises(ConfigError) as err:
        load_config(tmp_path / "self.yaml")
    _one_line(err.value, "(cycle self.yaml -> self.yaml)")


def test_a_bad_set_value_is_blamed_on_set_not_on_the_config(tmp_path, capsys):
    path = _config(tmp_path)
    line = _refused(capsys, ["evaluate", str(path), "--set", "M_Zp=-1"], "--set M_Zp=-1: parameter M_Zp=-1 must be > 0")
    assert str(path) not in line
    _refused(capsys, ["evaluate", str(path), "--set", "r_H=1.5"], "--set r_H=1.5", "(0, 1]")
    _refused(capsys, ["evaluate", "--scenario", "B", "--set", "g_X=1e-60"], "--set g_X=1e-60", "at least 1e-50")
