"""Bad sweep input (sweep files, the sweep directory on --resume, profile settings): each is one clear line naming the
file, the key and what was expected (and the value given), raised as the project's own error type, never a traceback,
never a silent default, and nothing a user produced is changed. Nothing is compiled or sampled here."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
import yaml

from globalfit.cli import main
from globalfit.errors import ConfigError, GlobalfitError, InputError, OutputError
from globalfit.inference.profile import ProfileSettings
from globalfit.outputs.sweepdir import MANIFEST, check_sweep_dir
from globalfit.problem.config import SEED_MAX, load_config
from globalfit.problem.sweep_config import _with_seed, load_sweep, sweep_jobs
from globalfit.inference.sweep import make_job
from tests.helpers import TINY_CONFIG as TINY



def _sweep(tmp_path: Path, data: dict | str | bytes, name: str = "sweep.yaml") -> Path:
    """tiny.yaml and a sweep file (a mapping dumped as YAML, or the file's text or bytes as given)."""
    (tmp_path / "tiny.yaml").write_text(yaml.safe_dump(TINY))
    path = tmp_path / name
    if isinstance(data, bytes):
        path.write_bytes(data)
    else:
        path.write_text(data if isinstance(data, str) else yaml.safe_dump(data))
    return path


def _one_line(exc: BaseException, *needles: str) -> str:
    msg = str(exc)
    assert "\n" not in msg and "Traceback" not in msg, msg
    for n in needles:
        assert n in msg, (n, msg)
    return msg


def _refused(tmp_path: Path, data, *needles: str, error=ConfigError, capsys=None) -> str:
    """The sweep file is refused when loaded and its jobs built (``sweep_jobs``, ``make_job``) with one line holding
    every needle, and by
    ``globalfit sweep --dry-run`` with exit code 2 and the same line."""
    path = _sweep(tmp_path, data)
    with pytest.raises(error) as err:
        [make_job(spec) for spec in sweep_jobs(path)[1]]  # as `globalfit sweep` builds the jobs
    msg = _one_line(err.value, str(path), *needles)
    if capsys is not None:
        capsys.readouterr()
        assert main(["sweep", str(path), "--dry-run"]) == 2
        out = capsys.readouterr()
        assert out.err.strip() == f"globalfit: error: {msg}" and out.out == ""
    return msg


RUN = {"output": {"dir": "o"}, "run": [{"config": "tiny.yaml"}]}


# --- 1. the file is read by the run config's hardened reader --------------------------------------------------------
def test_sweep_file_not_utf8(tmp_path, capsys):
    _refused(tmp_path, b"output: {dir: \xff}\nrun: [{config: tiny.yaml}]\n", "not valid UTF-8", "0xff", "line 1", capsys=capsys)


def test_sweep_file_nested_too_deeply(tmp_path, capsys):
    msg = _refused(tmp_path, "output: {dir: o}\nrun: " + "[" * 2000 + "]" * 2000 + "\n", "nested", capsys=capsys)
    assert "run config" not in msg  # the sweep reader's own wording


def test_sweep_file_duplicate_top_level_key(tmp_path, capsys):
    text = "output: {dir: o}\nrun:\n  - config: tiny.yaml\n    seeds: [1]\nrun:\n  - config: tiny.yaml\n    seeds: [2]\n"
    _refused(tmp_path, text, "duplicated key 'run'", "line 5", capsys=capsys)


def test_sweep_path_is_a_directory(tmp_path, capsys):
    (tmp_path / "adir.yaml").mkdir()
    with pytest.raises(ConfigError) as err:
        load_sweep(tmp_path / "adir.yaml")
    msg = _one_line(err.value, str(tmp_path / "adir.yaml"), "is a directory")
    assert "not found" not in msg
    assert main(["sweep", str(tmp_path / "adir.yaml"), "--dry-run"]) == 2
    assert "is a directory" in capsys.readouterr().err


@pytest.mark.parametrize("text, needle", [("", "empty"), ("[1, 2]\n", "expected a mapping with output"),
                                          ("- output: o\n", "got list")])
def test_sweep_file_not_a_mapping(tmp_path, text, needle):
    msg = _refused(tmp_path, text, needle)
    assert "model, params" not in msg  # not the run config's list of blocks


# --- 2. seeds bounded like sampler.seed, checked when the file is loaded ---------------------------------------------
@pytest.mark.parametrize("kind, entry", [("run", {"config": "tiny.yaml"}), ("evidence", {"configs": ["tiny.yaml"]}),
                                         ("profile", {"config": "tiny.yaml", "grid": 3})])
@pytest.mark.parametrize("seed, needle", [(-1, "got -1"), (2**64, f"got {2**64}"), (SEED_MAX + 1, f"got {SEED_MAX + 1}")])
def test_seeds_out_of_range(tmp_path, capsys, kind, entry, seed, needle):
    _refused(tmp_path, {"output": {"dir": "o"}, kind: [dict(entry, seeds=[0, seed])]}, f"{kind}.0.seeds.1:", needle, capsys=capsys)


def test_seed_bool_refused_and_largest_seed_kept(tmp_path):
    _refused(tmp_path, {"output": {"dir": "o"}, "run": [{"config": "tiny.yaml", "seeds": [True]}]}, "run.0.seeds.0:", "got true")
    _, jobs = sweep_jobs(_sweep(tmp_path, {"output": {"dir": "o"}, "run": [{"config": "tiny.yaml", "seeds": [SEED_MAX]}]}))
    assert jobs[0].configs[0].config.sampler.seed == SEED_MAX


def test_job_seed_is_validated_not_copied(tmp_path):
    """The seed set into a job's config is validated with the run config's rules (model_copy would skip them)."""
    cfg = load_config(_sweep(tmp_path, RUN).parent / "tiny.yaml")
    for kind, key in (("run", "sampler.seed"), ("evidence", "evidence.seed")):
        with pytest.raises(ConfigError) as err:
            _with_seed(cfg, kind, -1, tmp_path / "o", "tiny.yaml (with sweep.yaml: run.0.seeds)")
        _one_line(err.value, "tiny.yaml (with sweep.yaml: run.0.seeds)", key, "-1")


# --- 3. counts refuse booleans ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("data, key", [({**RUN, "retries": True}, "retries:"),
                                       ({"output": {"dir": "o"}, "profile": [{"config": "tiny.yaml", "starts": True}]}, "profile.0.starts:"),
                                       ({"output": {"dir": "o"}, "profile": [{"config": "tiny.yaml", "grid": True}]}, "profile.0.grid:"),
                                       ({"output": {"dir": "o"}, "evidence": [{"configs": ["tiny.yaml"], "live_points": True}]},
                                        "evidence.0.live_points:")])
def test_boolean_count_refused(tmp_path, capsys, data, key):
    _refused(tmp_path, data, key, "got true", capsys=capsys)


def test_retries_fraction_refused(tmp_path):
    _refused(tmp_path, {**RUN, "retries": 2.5}, "retries:", "2.5")


# --- 4. output.dir non-empty, as in run configs -----------------------------------------------------------------------
@pytest.mark.parametrize("value", ["", "   "])
def test_empty_output_dir(tmp_path, capsys, value):
    _refused(tmp_path, {**RUN, "output": {"dir": value}}, "output.dir:", "empty", capsys=capsys)


# --- 5. job and variant names cannot leave output.dir -----------------------------------------------------------------
@pytest.mark.parametrize("entry, key", [({"name": "."}, "run.0.name:"), ({"name": ".."}, "run.0.name:"),
                                        ({"variants": {"..": {}}}, "run.0.variants:"), ({"variants": {".": {}}}, "run.0.variants:"),
                                        ({"name": "a/../b"}, "run.0.name:")])
def test_names_cannot_escape_the_output_dir(tmp_path, capsys, entry, key):
    data = {"output": {"dir": "o"}, "run": [dict({"config": "tiny.yaml"}, **entry)]}
    msg = _refused(tmp_path, data, key, capsys=capsys)
    name = entry.get("name") or next(iter(entry["variants"]))
    assert f"name {name!r}" in msg


def test_default_name_of_a_dot_stem(tmp_path):
    _sweep(tmp_path, RUN)
    (tmp_path / "..yaml").write_text(yaml.safe_dump(TINY))  # its stem is "."
    _refused(tmp_path, {"output": {"dir": "o"}, "run": [{"config": "..yaml"}]}, "run.0:", "'.'", "give the entry a 'name'")


def test_names_with_dots_inside_still_allowed(tmp_path):
    _, jobs = sweep_jobs(_sweep(tmp_path, {"output": {"dir": "o"}, "run": [{"config": "tiny.yaml", "name": "v1.2", "variants": {"a..b": {}}}]}))
    assert [j.name for j in jobs] == ["run/v1.2/a..b"]


# --- 6. profile ranges inside the physical ranges of M_Zp and g_X -----------------------------------------------------
@pytest.mark.parametrize("key, value, needles", [
    ("M_range", [1e-30, 1e30], ["physical range", "M_Zp=1e-30"]),
    ("M_range", [1e-3, 1e30], ["physical range", "M_Zp=1e+30"]),
    ("g_range", [1e-3, 1e3], ["physical range", "g_X=1000"]),
    ("g_range", [1e-60, 1e-3], ["physical range", "g_X=1e-60"]),
    ("M_range", [1.0, 0.1], ["0 < lo < hi", "[1.0, 0.1]"]),
    ("M_range", [1e-3, ".inf"], ["finite number", "inf"]),
    ("g_range", [True, 1e-3], ["got true"]),
])
def test_profile_ranges_physical(tmp_path, capsys, key, value, needles):
    entry = {"config": "tiny.yaml", "grid": 3, key: value}
    text = yaml.safe_dump({"output": {"dir": "o"}, "profile": [entry]}).replace("'.inf'", ".inf")
    _refused(tmp_path, text, f"profile.0.{key}", *needles, capsys=capsys)


def test_profile_ranges_inside_kept(tmp_path):
    _, jobs = sweep_jobs(_sweep(tmp_path, {"output": {"dir": "o"}, "profile": [{"config": "tiny.yaml", "M_range": [1e-9, 1e9],
                                                                               "g_range": [1e-40, 3.0]}]}))
    assert jobs[0].settings["M_range"] == [1e-9, 1e9] and jobs[0].settings["g_range"] == [1e-40, 3.0]


# --- 7. a corrupt manifest on --resume ---------------------------------------------------------------------------------
@pytest.mark.parametrize("content, needle", [("{not json", "JSONDecodeError"), ("[]", "no 'jobs' mapping"),
                                             ('{"jobs": {"a": 3}}', "no 'jobs' mapping"), (b"\xff\xfe", "UnicodeDecodeError")])
def test_corrupt_manifest_on_resume(tmp_path, content, needle):
    out = tmp_path / "out"
    out.mkdir()
    m = out / MANIFEST
    m.write_bytes(content if isinstance(content, bytes) else content.encode())
    (out / "tasks").mkdir()
    with pytest.raises(OutputError) as err:
        check_sweep_dir(out, {"run/tiny": "0123"}, resume=True, force=False)
    _one_line(err.value, str(m), "not a readable sweep manifest", needle, "--force")
    assert m.read_bytes() == (content if isinstance(content, bytes) else content.encode())  # nothing changed
    assert check_sweep_dir(out, {"run/tiny": "0123"}, resume=False, force=True) == {"run/tiny": "0123"}  # --force starts over


def test_corrupt_manifest_cli(tmp_path, capsys, monkeypatch):
    """``globalfit sweep --resume`` of a directory with a damaged manifest: one line, exit 2, before any cluster."""
    import globalfit.cli as cli

    def no_cluster(*args, **kwargs):
        raise AssertionError("a cluster was started")

    monkeypatch.setattr(cli, "dask_client", no_cluster)
    out = tmp_path / "out"
    path = _sweep(tmp_path, {"output": {"dir": str(out)}, "run": [{"config": "tiny.yaml"}]})
    out.mkdir()
    (out / MANIFEST).write_text('{"jobs": {"run/tiny": "ab')
    capsys.readouterr()
    assert main(["sweep", str(path), "--resume", "--workers", "2"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "Traceback" not in err
    assert str(out / MANIFEST) in err and "not a readable sweep manifest" in err and "--force" in err
    assert (out / MANIFEST).read_text() == '{"jobs": {"run/tiny": "ab'


# --- 8. ProfileSettings: each check its own message --------------------------------------------------------------------
@pytest.mark.parametrize("kwargs, needles", [
    ({"grid": 1}, ["grid 1: need >= 2 points per axis"]),
    ({"grid": [4, 1]}, ["grid [4, 1]: need >= 2 points per axis"]),
    ({"grid": [4, 4, 4]}, ["grid [4, 4, 4]"]),
    ({"starts": 0}, ["starts 0: need starts >= 1"]),
    ({"steps": 0}, ["steps 0: need steps >= 1"]),
    ({"rows_per_task": 0}, ["rows per task 0: need rows per task >= 1"]),
    ({"polish": -1}, ["polish -1: need polish >= 0"]),
    ({"profile_rungs": 0}, ["profile rungs 0", "profile rungs >= 1"]),
    ({"warm_steps": 0}, ["warm steps 0", "warm steps >= 1"]),
    ({"warm_lr": math.nan}, ["warm lr nan", "0 < warm lr <= 1"]),
    ({"warm_lr": 0.0}, ["warm lr 0.0", "0 < warm lr <= 1"]),
    ({"warm_lr": 2.0}, ["warm lr 2.0", "0 < warm lr <= 1"]),
    ({"quantity": []}, ["give at least one quantity"]),
    ({"quantity": "eps_foo"}, ["quantity 'eps_foo'", "unknown derived quantity"]),
])
def test_profile_settings_messages(kwargs, needles):
    with pytest.raises(InputError) as err:
        ProfileSettings.make(**kwargs)
    msg = _one_line(err.value, *needles)
    assert "need grid >= 2 per axis, starts" not in msg  # not the old catch-all
    assert err.value.key == next(iter(kwargs))


def test_profile_settings_cli(tmp_path, capsys):
    cfg = _sweep(tmp_path, RUN).parent / "tiny.yaml"
    for args, needle in ((["--grid", "1"], "grid 1: need >= 2 points per axis"), (["--steps", "0"], "steps 0: need steps >= 1"),
                         (["--warm-lr", "nan"], "warm lr nan: need 0 < warm lr <= 1"), (["--warm-steps", "0"], "warm steps 0: need warm steps >= 1"),
                         (["--profile-rungs", "0"], "profile rungs 0: need profile rungs >= 1"), (["--polish", "-1"], "polish -1: need polish >= 0"),
                         (["--rows-per-task", "0"], "rows per task 0: need rows per task >= 1")):
        assert main(["profile", str(cfg), "--out", str(tmp_path / "p"), "--serial"] + args) == 2
        err = capsys.readouterr().err.strip()
        assert err.startswith("globalfit: error: ") and "\n" not in err and "Traceback" not in err and needle in err
    assert not (tmp_path / "p").exists()


# --- 9. a sweep job's settings: file and key path, at load time -------------------------------------------------------
@pytest.mark.parametrize("entry, key, needle", [
    ({"quantity": "eps_foo"}, "profile.0.quantity:", "'eps_foo'"),
    ({"quantity": []}, "profile.0.quantity:", "give at least one quantity"),
    ({"quantity": ["eps_earth_ee", "eps_bar"]}, "profile.0.quantity:", "'eps_bar'"),
    ({"exclude": ["zz_*"]}, "profile.0.exclude:", "'zz_*': matches no likelihood"),
])
def test_profile_job_settings_named(tmp_path, capsys, entry, key, needle):
    data = {"output": {"dir": "o"}, "profile": [dict({"config": "tiny.yaml", "grid": 3}, **entry)]}
    msg = _refused(tmp_path, data, key, needle, capsys=capsys)
    assert "--exclude" not in msg


def test_evidence_exclude_named(tmp_path, capsys):
    data = {"output": {"dir": "o"}, "evidence": [{"configs": ["tiny.yaml"], "exclude": ["zz_*"]}]}
    msg = _refused(tmp_path, data, "evidence.0.exclude:", "'zz_*': matches no likelihood", "tiny.yaml", capsys=capsys)
    assert "--exclude" not in msg


def test_exclude_matching_kept(tmp_path):
    data = {"output": {"dir": "o"}, "profile": [{"config": "tiny.yaml", "exclude": ["osc_*", "cosmo*"]}],
            "evidence": [{"configs": ["tiny.yaml"], "exclude": ["unitarity"]}]}
    _, jobs = sweep_jobs(_sweep(tmp_path, data))
    assert [j.name for j in jobs] == ["profile/tiny", "evidence/tiny"]


# --- 10. the run config's formatter: the value given, and how many more problems --------------------------------------
def test_values_shown_and_problems_counted(tmp_path, capsys):
    msg = _refused(tmp_path, {**RUN, "retries": -1, "foo": 1}, "retries:", "got -1", "(and 1 more problem in this file)", capsys=capsys)
    assert msg.startswith(f"{tmp_path / 'sweep.yaml'}: retries: ")
    _refused(tmp_path, {"output": {"dir": "o"}, "evidence": [{"configs": ["tiny.yaml"], "live_points": 5}]},
             "evidence.0.live_points:", "got 5")
    _refused(tmp_path, {"output": {"dir": "o"}, "profile": [{"config": "tiny.yaml", "warm_lr": 2}]}, "profile.0.warm_lr:", "got 2")
    # a union (N or [N_M, N_g]) is one problem, not one per member
    msg = _refused(tmp_path, {"output": {"dir": "o"}, "profile": [{"config": "tiny.yaml", "grid": 2.5}]}, "profile.0.grid:", "2.5")
    assert "more problem" not in msg and "function-" not in msg
    # unknown keys still list the sweep's own keys
    _refused(tmp_path, {**RUN, "retires": 1}, "retires: unknown key (did you mean 'retries'?)", "'output', 'retries'")


def test_every_error_is_a_globalfit_error(tmp_path):
    """A few malformed shapes more: never anything but the project's own errors."""
    for data in ({"output": "o", "run": []}, {"output": {"dir": "o"}, "run": [{"config": 3}]},
                 {"output": {"dir": "o"}, "run": [{"config": "tiny.yaml", "variants": {1: {}}}]},
                 {"output": {"dir": "o"}, "profile": [{"config": "tiny.yaml", "grid": [2, "x"]}]},
                 {"output": {"dir": "o"}, "run": [{"config": "tiny.yaml", "seeds": "1"}]}):
        with pytest.raises(GlobalfitError) as err:
            sweep_jobs(_sweep(tmp_path, data))
        _one_line(err.value, str(tmp_path / "sweep.yaml"))


@pytest.mark.parametrize("content", [b"garbage", b"PK\x03\x04truncated", None])
def test_damaged_task_result_named(tmp_path, content):
    """A task result damaged from outside (not npz, a truncated archive, no metadata) is one OutputError line naming
    the file and what to do, not a numpy or zipfile traceback on --resume."""
    from globalfit.outputs.sweepdir import load_result, result_path

    path = result_path(tmp_path, "profile/tiny/stage1/0")
    path.parent.mkdir(parents=True, exist_ok=True)
    if content is None:
        np.savez(path, x=np.zeros(2))  # an archive without the result's metadata
    else:
        path.write_bytes(content)
    with pytest.raises(OutputError) as err:
        load_result(tmp_path, "profile/tiny/stage1/0")
    _one_line(err.value, str(path), "not a readable task result", "--resume")
