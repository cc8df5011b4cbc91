"""Property-based fuzzing of what a user writes (hypothesis): run configs (structure, values, raw bytes) and
`evaluate --set`. Whatever the input: no traceback (only a one-line GlobalfitError naming the file), and nothing
accepted that holds a non-finite number or a value outside its physical range.

Bounded for CI: derandomized, a fixed number of examples, no deadline (the first example pays for imports)."""

import math
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from globalfit.cli import SET_NAMES, _parse_set
from globalfit.errors import GlobalfitError
from globalfit.physics.parameters import PARAMETERS
from globalfit.problem import load_problem
from globalfit.problem.config import check_param_ranges
from globalfit.problem.evaluate import check_values
from globalfit.inference.nuts import check_resources

CI = settings(max_examples=100, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck), database=None)

BASE = {
    "model": {"scenario": "B", "Y_n": 1.0},
    "params": {
        "M_Zp": {"prior": "log-uniform", "min": 1.0e-3, "max": 1.0, "ref": 0.01},
        "g_X": {"prior": "log-uniform", "min": 1.0e-8, "max": 1.0e-2},
        "y_e": {"prior": "uniform", "min": 0.0, "max": 3.5},
        "M_Psi": {"prior": "log-normal", "loc": 1.0, "scale": 0.5, "min": 2.0},
        "g_Psi": -1.0, "M_H": 400.0, "r_H": 0.75, "y_mu": 0.0, "y_tau": 0.0,
    },
    "likelihoods": {"cosmology": None},
    "sampler": {"chains": 2, "warmup": 10, "draws": 10, "chunk_size": 5, "seed": 1, "target_accept": 0.9},
    "output": {"dir": "out/fuzz"},
    "plots": {"corner": ["M_Zp", "g_X"]},
}

# values a user might put anywhere: numbers of every size and kind, numeric strings, non-numbers, structures
NUMBERS = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True),
    st.integers(min_value=-(10**40), max_value=10**40),
    st.sampled_from([0, -1, 1e-300, 1e300, 1e-6, 3.6, 2**63, 10**9]),
)
NUMERIC_TEXT = st.sampled_from(["1e400", "-1e400", "nan", ".nan", "inf", "-.inf", "1e-3", "0x10", "1_000", "4", " 2 ", ""])
SCALARS = st.one_of(NUMBERS, NUMERIC_TEXT, st.booleans(), st.none(), st.text(max_size=12))
VALUES = st.recursive(SCALARS, lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=6), inner, max_size=3)),
                      max_leaves=6)
KEYS = st.one_of(st.sampled_from(["min", "max", "loc", "scale", "ref", "value", "prior", "negative", "chains", "draws", "warmup", "seed",
                                  "Y_n", "dir", "scenario", "base", "priors", "M_Zp", "g_Psi", "r_H", "cos_beta", "device"]),
                 st.text(max_size=8))


def _paths(d, prefix=()):
    yield prefix
    if isinstance(d, dict):
        for k, v in d.items():
            yield from _paths(v, prefix + (k,))


@st.composite
def mutated_configs(draw):
    cfg = yaml.safe_load(yaml.safe_dump(BASE))
    for _ in range(draw(st.integers(1, 3))):
        paths = [p for p in _paths(cfg) if p and not (p[0] == "likelihoods" and len(p) > 1)]  # likelihood options: the lead's models
        path = draw(st.sampled_from(paths))
        node = cfg
        for k in path[:-1]:
            node = node[k]
        action = draw(st.sampled_from(["set", "set", "set", "delete", "add"]))
        if action == "set":
            node[path[-1]] = draw(VALUES)
        elif action == "delete":
            del node[path[-1]]
        elif isinstance(node.get(path[-1]), dict):
            node[path[-1]][draw(KEYS)] = draw(VALUES)
    return cfg


def _finite_everywhere(x) -> bool:
    if isinstance(x, float):
        return math.isfinite(x)
    if isinstance(x, dict):
        return all(_finite_everywhere(v) for v in x.values())
    if isinstance(x, (list, tuple)):
        return all(_finite_everywhere(v) for v in x)
    return True


def _load(path: Path, tmp: Path) -> None:
    """Validate as `globalfit run --dry-run` does before any JAX code: either the config is accepted (then every number
    is finite and in range) or one GlobalfitError line naming the file."""
    try:
        problem = load_problem(path)
        check_resources(problem, tmp)
    except GlobalfitError as exc:
        msg = str(exc)
        assert "\n" not in msg and msg.startswith(str(path)), msg
        return
    cfg = problem.cfg
    assert _finite_everywhere(cfg.model_dump()), cfg
    check_param_ranges(cfg.param_specs())


@CI
@given(cfg=mutated_configs())
def test_fuzzed_config_structure_and_values(cfg, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("fuzz")
    path = tmp / "run.yaml"
    try:
        path.write_text(yaml.safe_dump(cfg, allow_unicode=True))
    except (yaml.YAMLError, UnicodeEncodeError):  # not writable as YAML (surrogates): nothing a user can write
        return
    _load(path, tmp)


@CI
@given(data=st.data())
def test_fuzzed_config_bytes(data, tmp_path_factory):
    """Raw edits of a valid file: random bytes spliced in (invalid UTF-8, control characters), lines duplicated
    (duplicated keys), cut short."""
    tmp = tmp_path_factory.mktemp("bytes")
    text = yaml.safe_dump(BASE).encode()
    kind = data.draw(st.sampled_from(["splice", "duplicate", "truncate"]))
    if kind == "splice":
        at = data.draw(st.integers(0, len(text)))
        text = text[:at] + data.draw(st.binary(min_size=1, max_size=8)) + text[at:]
    elif kind == "duplicate":
        lines = text.splitlines(keepends=True)
        i = data.draw(st.integers(0, len(lines) - 1))
        text = b"".join(lines[: i + 1] + [lines[i]] + lines[i + 1:])
    else:
        text = text[: data.draw(st.integers(0, len(text)))]
    path = tmp / "run.yaml"
    path.write_bytes(text)
    _load(path, tmp)


SET_ITEMS = st.one_of(
    st.builds(lambda n, v: f"{n}={v!r}" if isinstance(v, float) else f"{n}={v}", st.sampled_from(SET_NAMES), st.one_of(NUMBERS, NUMERIC_TEXT)),
    st.text(max_size=15),
)


@CI
@given(items=st.lists(SET_ITEMS, max_size=4), scenario=st.sampled_from(["B", "B-L", "L", "B-3Ltau"]))
def test_fuzzed_evaluate_set(items, scenario):
    """`evaluate --set`: parsing and every check before the model runs. Accepted values are finite and in range;
    a duplicated name or a non-finite value is always refused."""
    try:
        values = _parse_set(items)
        check_values(values, scenario)
    except GlobalfitError as exc:
        assert "\n" not in str(exc)
        return
    except (ValueError, KeyError) as exc:  # the CLI turns these into InputError (one line)
        assert "\n" not in str(exc)
        return
    names = [i.partition("=")[0].strip() for i in items]
    assert len(names) == len(set(names))
    for k, v in values.items():
        assert math.isfinite(v)
        if k in PARAMETERS:
            assert PARAMETERS[k].lower <= v <= PARAMETERS[k].upper and not 0 < abs(v) < PARAMETERS[k].smallest_nonzero


@pytest.mark.parametrize("argv,needle", [
    (["--set", "M_Zp=1e400"], "must be a finite number"),
    (["--set", "g_X=nan"], "must be a finite number"),
    (["--set", "y_e=0.1", "--set", "y_e=0.2"], "set twice"),
    (["--set", "r_H=0.5", "--set", "cos_beta=0.1"], "give one of them"),
    (["--set", "M_Zp=1e-13"], "M_Zp=1e-13 outside its physical range"),
    (["--set", "M_H=1e20"], "outside its physical range"),
    (["--set", "g_X=1e-60"], "a non-zero g_X at least 1e-50"),
    (["--set", "g_Psi=0", "--set", "r_H=0.5"], "Eq. 9 fixes no cos_beta"),
])
def test_evaluate_set_refusals(capsys, argv, needle):
    from globalfit.cli import main

    assert main(["evaluate", "--scenario", "B", *argv]) == 2
    err = capsys.readouterr().err
    assert needle in err and len(err.strip().splitlines()) == 1, err


def test_evaluate_refuses_a_point_with_non_finite_observables():
    """Far outside the support (|kappa| ~ 1e79) the Z' width overflows: an error naming the violated constraints, not a
    table of NaN."""
    from globalfit.problem.evaluate import evaluate_point

    point = {"M_Psi": 1.3e-77, "M_Zp": 1e-12, "y_e": 3.5, "y_mu": 3.5, "y_tau": 3.5, "cos_beta": 1.0, "g_X": 3.5, "g_Psi": 3.5}
    with pytest.raises(ValueError, match=r"non-finite width_Zp.*violates .*\|kappa_e\|"):
        evaluate_point(point, "B")
