"""docs/config.md, the configuration reference, against the schema it documents.

* every field of every pydantic model reachable from ``RunConfig`` and from ``SweepFile`` has a row in its block's
  section (``sampler`` lists ``max_tree_depth``, sweep ``profile`` jobs list ``warm_lr``, ...);
* the generated tables equal what ``python tools/config_reference.py`` makes now, and each field's meaning comes from
  the schema (its description, the docstring below the field), so that a field without one stops the generator;
* every YAML example of the page validates (run configs: ``load_config`` and the static checks of
  ``globalfit run --dry-run`` short of building the likelihoods; sweep files: ``load_sweep`` and ``expand_sweep``),
  and the JSON excerpt of ``globalfit likelihoods --json`` is the real one.

Imports only the config schema (and the likelihood registry for option checks); nothing is compiled.
"""

from __future__ import annotations

import importlib.util
import json
import re
import shutil
import typing
from pathlib import Path

import pytest
import yaml
from pydantic import BaseModel

from globalfit.problem.config import RunConfig, load_config
from globalfit.problem.sweep_config import SweepFile, expand_sweep, load_sweep

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "config.md"
GENERATOR = ROOT / "tools" / "config_reference.py"
REGENERATE = "python tools/config_reference.py"


def _generator():
    spec = importlib.util.spec_from_file_location("config_reference", GENERATOR)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


gen = _generator()
TEXT = DOC.read_text(encoding="utf-8")


# ---------------------------------------------------------------------------------------------------------------------
# (a) every field in its block's section
# ---------------------------------------------------------------------------------------------------------------------


def _sections(text: str) -> dict[tuple[str, str | None], str]:
    """{(h2 title, h3 title): text} (an h3 section includes its h4 subsections)."""
    out: dict[tuple[str, str | None], list[str]] = {}
    h2, h3, fenced = "", None, False
    for line in text.splitlines():
        if line.startswith("```"):
            fenced = not fenced
        if not fenced and line.startswith("## "):
            h2, h3 = line[3:].strip(), None
            continue
        if not fenced and line.startswith("### "):
            h3 = line[4:].strip()
            continue
        out.setdefault((h2, h3), []).append(line)
    return {k: "\n".join(v) for k, v in out.items()}


SECTIONS = _sections(TEXT)
SCHEMAS = {"Run configs": RunConfig, "Sweep files": SweepFile}


def _models_in(tp: object) -> typing.Iterator[type[BaseModel]]:
    if isinstance(tp, type) and issubclass(tp, BaseModel):
        yield tp
        return
    for arg in typing.get_args(tp):
        yield from _models_in(arg)


def _walk(model: type[BaseModel], path: tuple[str, ...] = ()) -> typing.Iterator[tuple[tuple[str, ...], type[BaseModel]]]:
    """(key path, model) of ``model`` and of every model reachable through its fields (mappings and lists included)."""
    yield path, model
    for name, field in model.model_fields.items():
        for sub in _models_in(field.annotation):
            yield from _walk(sub, path + (name,))


def _section(h2: str, path: tuple[str, ...]) -> str:
    """The section of a block: 'Top-level keys' for the file's own keys, else the h3 that starts with `block`."""
    for (part, h3), text in SECTIONS.items():
        if part != h2 or h3 is None:
            continue
        if (not path and h3 == "Top-level keys") or (path and h3.startswith(f"`{path[0]}`")):
            return text
    pytest.fail(f"docs/config.md: no section for {'.'.join(path) or 'the top-level keys'} under '## {h2}'", pytrace=False)


FIELDS = [(h2, path, name) for h2, root in SCHEMAS.items() for path, model in _walk(root) for name in model.model_fields]


def test_walk_reaches_every_block():
    paths = {(h2, path) for h2, path, _ in FIELDS}
    for block in ("model", "params", "sampler", "evidence", "output", "plots"):
        assert ("Run configs", (block,)) in paths
    for block in ("output", "profile", "evidence", "run"):
        assert ("Sweep files", (block,)) in paths


@pytest.mark.parametrize("h2,path,name", FIELDS, ids=[f"{h2.split()[0].lower()}:{'.'.join(p + (n,))}" for h2, p, n in FIELDS])
def test_every_field_has_a_row_in_its_section(h2, path, name):
    section = _section(h2, path)
    assert re.search(rf"^\| `{re.escape(name)}` \|", section, re.M), (
        f"docs/config.md: '{name}' ({'.'.join(path + (name,))}) has no row in the section of "
        f"{'.'.join(path) or 'the top-level keys'}; give the field a docstring in the schema and run `{REGENERATE}`")


def test_base_key_documented():
    assert re.search(r"^\| `base` \|", _section("Run configs", ()), re.M)


# ---------------------------------------------------------------------------------------------------------------------
# (b) the generated tables are current
# ---------------------------------------------------------------------------------------------------------------------


def test_generated_tables_up_to_date():
    try:
        want = gen.tables()
    except gen.ConfigDocError as exc:
        pytest.fail(str(exc), pytrace=False)
    have = gen.generated_blocks(TEXT)
    stale = sorted(k for k in want.keys() | have.keys() if want.get(k) != have.get(k))
    if stale:
        pytest.fail(f"docs/config.md is out of date with the config schema (tables {', '.join(stale)}): run `{REGENERATE}`",
                    pytrace=False)


def _all_fields() -> typing.Iterator[tuple[str, object]]:
    for root in SCHEMAS.values():
        for _, model in _walk(root):
            for name, field in model.model_fields.items():
                yield f"{model.__name__}.{name}", field


def test_every_field_has_a_description():
    """The meaning of a key lives in the schema (pydantic's attribute docstrings), nowhere else."""
    missing = sorted({key for key, field in _all_fields() if not (field.description or "").strip()})
    assert not missing, f"fields without a docstring in the schema: {missing}"
    assert not hasattr(gen, "MEANINGS"), "tools/config_reference.py holds meanings of fields again; they belong in the schema"


def test_meaning_comes_from_the_schema(monkeypatch):
    from globalfit.problem.config import SamplerBlock

    monkeypatch.setattr(SamplerBlock.model_fields["max_tree_depth"], "description", "A meaning\n    over two lines.")
    assert "| `max_tree_depth` | integer >= 1 and <= 20 | `10` | A meaning over two lines. |" in gen.tables()["run.sampler"]


def test_seed_notes_follow_the_shared_field():
    rows = {s: re.search(r"^\| `seeds` \|.*$", gen.tables()[s], re.M).group(0) for s in gen.SEED_NOTES}
    for section, note in gen.SEED_NOTES.items():
        assert rows[section].endswith(f"one job per seed ({note}). |")


def test_field_without_meaning_stops_the_generator(monkeypatch):
    from globalfit.problem.config import SamplerBlock

    monkeypatch.setattr(SamplerBlock.model_fields["max_tree_depth"], "description", None)
    with pytest.raises(gen.ConfigDocError, match=r"run\.sampler\.max_tree_depth has no meaning; .*SamplerBlock\.max_tree_depth "
                                                 r"in globalfit/problem/config\.py"):
        gen.tables()


def test_shared_job_field_without_meaning_names_its_class(monkeypatch):
    from globalfit.problem.sweep_config import RunJob

    monkeypatch.setattr(RunJob.model_fields["variants"], "description", " ")
    with pytest.raises(gen.ConfigDocError, match=r"sweep\.run\.variants has no meaning; .*_Job\.variants in "
                                                 r"globalfit/problem/sweep_config\.py"):
        gen.tables()


def test_extra_key_that_became_a_field_stops_the_generator(monkeypatch):
    extra = {k: dict(v) for k, v in gen.EXTRA_KEYS.items()}
    extra["run.top"]["plots"] = ("mapping", "—", "text kept in the tool for a key that is a field")
    monkeypatch.setattr(gen, "EXTRA_KEYS", extra)
    with pytest.raises(gen.ConfigDocError, match=r"\['plots'\], now a field of RunConfig"):
        gen.tables()


# ---------------------------------------------------------------------------------------------------------------------
# (c) the examples are valid
# ---------------------------------------------------------------------------------------------------------------------

EXAMPLES = re.findall(r"^```yaml\n(.*?)^```", TEXT, re.M | re.S)
_HEADER = re.compile(r"^# (runs|sweeps)/([A-Za-z0-9_.+-]+\.yaml)\s*$")


def _tree(tmp_path: Path) -> Path:
    """A copy of runs/ (so that examples can name the shipped configs by relative path) beside an empty sweeps/."""
    shutil.copytree(ROOT / "runs", tmp_path / "runs")
    (tmp_path / "sweeps").mkdir()
    return tmp_path


def _placed(tmp: Path) -> list[tuple[str, Path]]:
    """Every example written to its file: a header ``# runs/NAME.yaml`` or ``# sweeps/NAME.yaml`` names it; a fragment
    without one becomes a run config (scenario B unless it names a model)."""
    placed = []
    for i, text in enumerate(EXAMPLES):
        m = _HEADER.match(text.splitlines()[0])
        if m:
            kind, path = m.group(1), tmp / m.group(1) / m.group(2)
        else:
            data = yaml.safe_load(text)
            if "model" not in data and "base" not in data:
                text = "model: {scenario: B}\n" + text
            kind, path = "runs", tmp / "runs" / f"_fragment_{i}.yaml"
        path.write_text(text, encoding="utf-8")
        placed.append((kind, path))
    return placed


def _check_run_config(path: Path) -> None:
    """What `globalfit run --dry-run` checks before it builds anything, and the likelihood names and options."""
    from globalfit.physics.scenarios import get_scenario
    from globalfit.problem.parametrisation import sites_for
    from globalfit.problem.support import check_config, check_metropolis, check_plots
    from likelihoods import registry

    cfg = load_config(path)
    where = str(path)
    check_config(cfg, where)
    check_plots(cfg, where)
    check_metropolis(cfg, where)
    sites_for(cfg)
    reg, sc = registry(), get_scenario(cfg.model.scenario)
    names = list(cfg.likelihoods)
    for name, opts in cfg.likelihoods.items():
        assert name in reg, f"{path.name}: likelihoods.{name}: unknown likelihood"
        assert reg[name].applies(sc), f"{path.name}: likelihoods.{name}: not applicable to {sc.name}"
        assert not [n for n in reg[name].combines if n in names], f"{path.name}: likelihoods.{name}: combines another entry"
        reg[name].Options.model_validate(dict(opts or {}))


def test_examples_validate(tmp_path):
    assert len(EXAMPLES) >= 5
    placed = _placed(_tree(tmp_path))
    assert {k for k, _ in placed} == {"runs", "sweeps"}
    for kind, path in placed:
        if kind == "runs":
            _check_run_config(path)
        else:
            jobs = expand_sweep(load_sweep(path), path)
            listed = re.search(r"^Its jobs: (.*?)\.\n", TEXT, re.M | re.S)
            assert listed, "docs/config.md: the sweep example's job list ('Its jobs: ...') is missing"
            assert [j.name for j in jobs] == re.findall(r"`([^`]+)`", listed.group(1))


def test_annotated_example_is_quickstart(tmp_path):
    """The annotated example is runs/quickstart.yaml with comments: the same config once read."""
    (example,) = [t for t in EXAMPLES if t.startswith("# runs/quickstart.yaml\n")]
    path = tmp_path / "quickstart.yaml"
    path.write_text(example, encoding="utf-8")
    assert load_config(path) == load_config(ROOT / "runs" / "quickstart.yaml"), (
        "docs/config.md: the annotated example no longer matches runs/quickstart.yaml; update it")


def test_likelihood_json_excerpt_is_current():
    from likelihoods import describe_all

    (block,) = re.findall(r"^```json\n(.*?)^```", TEXT, re.M | re.S)
    shown = json.loads(block)
    (real,) = [r for r in describe_all() if r["name"] == shown["name"]]
    assert shown == json.loads(json.dumps(real)), "docs/config.md: the `globalfit likelihoods --json` excerpt differs; paste the current entry"
