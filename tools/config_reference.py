"""Regenerate the key tables of docs/config.md from the config schema.

    python tools/config_reference.py            # rewrite the generated tables of docs/config.md in place
    python tools/config_reference.py --check    # exit 1 (one line) if docs/config.md is out of date

Types, allowed values, defaults and bounds (``ge=1`` -> ">= 1") come from the pydantic models of
:mod:`globalfit.problem.config` (run configs) and :mod:`globalfit.problem.sweep_config` (sweep files); the parameter
names from :data:`globalfit.physics.parameters.PARAMETERS`; scenarios from :data:`globalfit.physics.scenarios.SCENARIOS`;
the prior sets from ``priors/``; the profile defaults from ``ProfileSettings`` in ``globalfit/inference/profile.py``
(read as source, not imported). The one-line meaning of each key is the field's description in the schema
(``FieldInfo.description``: the docstring directly below the field, pydantic's attribute docstrings): a field without
one stops the script, naming the key. Keys and rows that are no field (``base``, read by the loader before
validation; the prior kinds, parameter names and prior sets) have their text here. Only the text between the
``<!-- generated:ID ... -->`` and ``<!-- end generated:ID -->`` markers is rewritten; the prose around them is
hand-written.
"""

from __future__ import annotations

import argparse
import ast
import math
import re
import sys
import types
import typing
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from annotated_types import Ge, Gt, Le, Lt, MinLen  # noqa: E402
from pydantic import BaseModel  # noqa: E402
from pydantic.fields import FieldInfo  # noqa: E402

from globalfit.problem import config as run_schema  # noqa: E402
from globalfit.problem import sweep_config as sweep_schema  # noqa: E402

DOC = ROOT / "docs" / "config.md"
COMMAND = "python tools/config_reference.py"
BEGIN = "<!-- generated:{id} (do not edit: {command}) -->"
END = "<!-- end generated:{id} -->"
_BEGIN_RE = re.compile(r"<!-- generated:([\w.-]+) \(do not edit: [^)]*\) -->")

# --------------------------------------------------------------------------------------------------------------------
# Text that has no field to live in. The meaning of each field of the schema is its description (the docstring below
# it in globalfit/problem/config.py or sweep_config.py); ``{=name}`` in any text is filled in from the code
# (:func:`_facts`). Markdown, one table cell each.
# --------------------------------------------------------------------------------------------------------------------

# Job-level notes on `seeds` (one per job kind: what the seed sets), appended to the meaning of the shared field
SEED_NOTES = {
    "sweep.profile": "seeds the optimiser's random starts",
    "sweep.evidence": "sets `evidence.seed`",
    "sweep.run": "sets `sampler.seed`",
}

PRIOR_KIND_ROWS: dict[str, tuple[str, str, str]] = {
    # kind: (needs, also takes, what is drawn)
    "uniform": ("`min`, `max`", "`ref`", "x ~ U(min, max)"),
    "log-uniform": ("`min` > 0, `max`", "`ref`, `negative`, `signed`", "log10 x ~ U(log10 min, log10 max) (site `log10_<name>`)"),
    "normal": ("`loc`, `scale`", "`min`, `max`, `ref`", "x ~ N(loc, scale), truncated to [min, max]"),
    "half-normal": ("`scale`", "`min`, `max`, `ref`, `negative`", "x = abs(N(0, scale)), x >= 0"),
    "log-normal": ("`loc`, `scale` (ln units)", "`min`, `max` (max > 0), `ref`, `negative`", "ln x ~ N(loc, scale) (site `ln_<name>`)"),
    "circular": ("nothing", "`ref`", "phases only: uniform on the circle, x in [-pi, pi), with no edge at +-pi "
                 "(site `unwrapped_<name>` ~ N(0, {=circular_sd}), wrapped)"),
}

EXTRA_PARAMS: dict[str, tuple[str, str, str]] = {
    # config-only sampling parameters (EXTRA_PARAM_NAMES): (default, range, meaning)
    "r_H": ("—", "(0, 1]", "share of M_Zp from <H'> (Eq. 9); cos_beta = r_H M_Zp / (abs(g_Psi - g_l) v) is derived. "
            "Only with `model.constraints: parametrised`; not together with `cos_beta`."),
}

# The sections of the reference: id -> model. Each lists every field of its model.
SECTIONS: dict[str, type[BaseModel]] = {
    "run.top": run_schema.RunConfig,
    "run.model": run_schema.ModelBlock,
    "run.params": run_schema.ParamSpec,
    "run.sampler": run_schema.SamplerBlock,
    "run.evidence": run_schema.EvidenceBlock,
    "run.output": run_schema.OutputBlock,
    "run.plots": run_schema.PlotsBlock,
    "sweep.top": sweep_schema.SweepFile,
    "sweep.output": sweep_schema.OutputBlock,
    "sweep.profile": sweep_schema.ProfileJob,
    "sweep.evidence": sweep_schema.EvidenceJob,
    "sweep.run": sweep_schema.RunJob,
}
# keys the loader reads besides the model's fields (documented in the section's table): (type, default, meaning)
EXTRA_KEYS: dict[str, dict[str, tuple[str, str, str]]] = {
    "run.top": {
        "base": ("string (a file name)", "—",
                 "Another run config this one extends, relative to this file (see [`base:`](#base-inheritance)). Read "
                 "by the loader before validation, so it is not a field of `RunConfig`."),
    },
}
# types that a validator narrows (the annotation alone says less): {section: {key: words}}, ``{=name}`` filled in
TYPE_OVERRIDES: dict[str, dict[str, str]] = {
    "run.top": {"params": "mapping parameter name -> number or mapping",
                "likelihoods": "mapping likelihood name -> mapping of options, or empty"},
    "run.model": {"scenario": "one of {=scenarios}"},
}
# default values that are a whole block: the table says so rather than printing the object
_BLOCK_DEFAULT = "each key's default"


class ConfigDocError(Exception):
    """The schema and this script disagree (a field without a description, text here for a key that is now a field,
    ...)."""


# --------------------------------------------------------------------------------------------------------------------
# Rendering
# --------------------------------------------------------------------------------------------------------------------


def _num(x: float) -> str:
    if isinstance(x, int) and x > 2**20 and ((x + 1) & x) == 0:
        return f"2^{(x + 1).bit_length() - 1} - 1"
    if isinstance(x, float) and x.is_integer() and abs(x) < 1e6:
        x = int(x)
    return f"{x:g}" if isinstance(x, float) else str(x)


def _bounds(metadata: typing.Iterable[object]) -> list[str]:
    out = []
    for m in metadata:
        if isinstance(m, FieldInfo):
            out += _bounds(m.metadata)
        elif isinstance(m, Gt):
            out.append(f"> {_num(m.gt)}")
        elif isinstance(m, Ge):
            out.append(f">= {_num(m.ge)}")
        elif isinstance(m, Lt):
            out.append(f"< {_num(m.lt)}")
        elif isinstance(m, Le):
            out.append(f"<= {_num(m.le)}")
        elif isinstance(m, MinLen):
            out.append(f"(at least {m.min_length} entr{'y' if m.min_length == 1 else 'ies'})")
    return out


def _validators(metadata: typing.Iterable[object]) -> set[str]:
    return {getattr(getattr(m, "func", None), "__name__", "") for m in metadata}


def _type(tp: object, metadata: typing.Iterable[object] = (), plural: bool = False) -> str:
    """A type annotation in words; ``metadata``: the field's (or an Annotated type's) constraints and validators."""
    metadata = list(metadata)
    origin, args = typing.get_origin(tp), typing.get_args(tp)
    if origin is typing.Annotated:
        return _type(args[0], metadata + list(args[1:]), plural)
    if origin in (typing.Union, types.UnionType):
        parts = [a for a in args if a is not type(None)]
        words = " or ".join(_type(a, metadata if len(parts) == 1 else (), plural) for a in parts)
        if len(parts) < len(args):
            words += (", or `null`" if " " in words else " or `null`")
        return words
    if origin is typing.Literal:
        return ("values from " if plural else "one of ") + ", ".join(f"`{a}`" for a in args)
    if origin is list:
        return "list of " + _type(args[0], (), plural=True) + _constraint_text(metadata)
    if origin is dict:
        key, value = _type(args[0], ()), _type(args[1], ())
        if typing.get_origin(args[0]) is typing.Literal:
            key = "(" + key.removeprefix("one of ") + ")"
        if " or " in value or " -> " in value:
            value = f"({value})"
        return f"mapping {key} -> {value}" + _constraint_text(metadata)
    if isinstance(tp, type) and issubclass(tp, BaseModel):
        return "mappings" if plural else "mapping"
    names = {bool: ("boolean", "booleans"), str: ("string", "strings"), float: ("number", "numbers"),
             int: ("integer", "integers")}
    if tp is typing.Any:
        return "any values" if plural else "any value"
    if tp in names:
        word = names[int if "_whole" in _validators(metadata) else tp][plural]
        return word + _constraint_text(metadata)
    raise ConfigDocError(f"{COMMAND}: cannot describe the type {tp!r}; teach _type() about it")


def _constraint_text(metadata: typing.Iterable[object]) -> str:
    b = _bounds(metadata)
    return (" " + " and ".join(b)) if b else ""


def _yaml(v: object) -> str:
    if v is None:
        return "`null`"
    if isinstance(v, bool):
        return f"`{str(v).lower()}`"
    if isinstance(v, float):
        return f"`{_num(v)}`" if not v.is_integer() or abs(v) >= 1e6 else f"`{v}`"
    if isinstance(v, (int, str)):
        return f"`{v}`"
    if isinstance(v, tuple):
        v = list(v)
    text = yaml.safe_dump(v, default_flow_style=True, width=1000).strip()
    return f"`{text}`"


def _default(f: FieldInfo) -> str:
    if f.is_required():
        return "**required**"
    v = f.default_factory() if f.default_factory is not None else f.default  # type: ignore[call-arg]
    if isinstance(v, BaseModel):
        return _BLOCK_DEFAULT
    if v == {} and isinstance(v, dict):
        return "`{}`"
    return _yaml(v)


def _cell(text: str) -> str:
    """A table cell: one line, "|" escaped (GitHub Markdown), "<" before a letter outside code spans written as &lt;
    (so that e.g. <H'> is not read as an HTML tag)."""
    parts = " ".join(text.split()).split("`")
    parts = [p if i % 2 else re.sub(r"<(?=[A-Za-z/!?])", "&lt;", p) for i, p in enumerate(parts)]
    return "`".join(parts).replace("|", "\\|")


def _table(rows: list[tuple[str, ...]], head: tuple[str, ...]) -> str:
    lines = ["| " + " | ".join(head) + " |", "|" + "|".join("---" for _ in head) + "|"]
    lines += ["| " + " | ".join(_cell(c) for c in r) + " |" for r in rows]
    return "\n".join(lines)


def _defining_class(model: type[BaseModel], name: str) -> type[BaseModel]:
    """The most basic class of ``model``'s MRO that declares the field ``name``."""
    owners = [c for c in model.__mro__ if isinstance(c, type) and issubclass(c, BaseModel) and name in getattr(c, "model_fields", {})]
    return owners[-1]


# --------------------------------------------------------------------------------------------------------------------
# Facts read from the code
# --------------------------------------------------------------------------------------------------------------------


def _profile_defaults() -> dict[str, object]:
    """Defaults of ``ProfileSettings`` (globalfit/inference/profile.py), read from the source so that no inference
    module (JAX compilation machinery) is imported: {field: default} and ``DEFAULT_EXCLUDE``."""
    path = ROOT / "globalfit" / "inference" / "profile.py"
    tree = ast.parse(path.read_text(encoding="utf-8"))
    env: dict[str, object] = {}
    for node in tree.body:
        targets = node.targets if isinstance(node, ast.Assign) else [node.target] if isinstance(node, ast.AnnAssign) and node.value else []
        if not targets:
            continue
        try:
            value = ast.literal_eval(node.value)  # type: ignore[union-attr]
        except ValueError:
            continue
        for t in targets:
            if isinstance(t, ast.Name):
                env[t.id] = value
            elif isinstance(t, ast.Tuple) and isinstance(value, tuple) and len(t.elts) == len(value):
                env.update({e.id: v for e, v in zip(t.elts, value) if isinstance(e, ast.Name)})
    cls = next((n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == "ProfileSettings"), None)
    if cls is None:
        raise ConfigDocError(f"{COMMAND}: class ProfileSettings not found in {path}")
    out: dict[str, object] = {"DEFAULT_EXCLUDE": env.get("DEFAULT_EXCLUDE")}
    for node in cls.body:
        if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name) and node.value is not None:
            if isinstance(node.value, ast.Name) and node.value.id in env:
                out[node.target.id] = env[node.value.id]
            else:
                try:
                    out[node.target.id] = ast.literal_eval(node.value)
                except ValueError:
                    pass
    return out


def _facts() -> dict[str, str]:
    from globalfit.physics.scenarios import SCENARIOS

    prof = _profile_defaults()
    facts = {
        "scenarios": ", ".join(f"`{s}`" for s in SCENARIOS),
        "min_mass": f"{run_schema.MIN_TRUNCATED_MASS:.2g}",
        "circular_sd": "3 pi" if math.isclose(run_schema.CIRCULAR_SD, 3 * math.pi) else f"{run_schema.CIRCULAR_SD:g}",
    }
    for key in ("starts", "steps", "polish", "profile_rungs", "warm_lr"):
        if key not in prof:
            raise ConfigDocError(f"{COMMAND}: no default for ProfileSettings.{key} in globalfit/inference/profile.py")
        facts[f"profile_{key}"] = _yaml(prof[key])
    if prof["DEFAULT_EXCLUDE"] is None:
        raise ConfigDocError(f"{COMMAND}: DEFAULT_EXCLUDE not found in globalfit/inference/profile.py")
    facts["profile_exclude"] = _yaml(list(prof["DEFAULT_EXCLUDE"]))  # type: ignore[arg-type]
    return facts


def _fill(text: str, facts: dict[str, str]) -> str:
    def one(m: re.Match) -> str:
        if m.group(1) not in facts:
            raise ConfigDocError(f"{COMMAND}: unknown substitution {{={m.group(1)}}} in a field docstring")
        return facts[m.group(1)]

    return re.sub(r"\{=(\w+)\}", one, text)


# --------------------------------------------------------------------------------------------------------------------
# Tables
# --------------------------------------------------------------------------------------------------------------------


def _source(cls: type) -> str:
    """The file that defines ``cls``, relative to the repository (for messages)."""
    path = Path(sys.modules[cls.__module__].__file__ or cls.__module__)
    return str(path.relative_to(ROOT)) if path.is_relative_to(ROOT) else str(path)


def _meaning(section: str, model: type[BaseModel], name: str, f: FieldInfo) -> str:
    """The meaning of a field: its description in the schema (for ``seeds`` of a sweep job, with what the seed sets)."""
    text = " ".join((f.description or "").split())
    if not text:
        owner = _defining_class(model, name)
        raise ConfigDocError(f"{COMMAND}: {section}.{name} has no meaning; add a docstring (a string literal directly below "
                             f"the field) to {owner.__name__}.{name} in {_source(owner)}")
    if name == "seeds" and section in SEED_NOTES:
        text = text.removesuffix(".") + f" ({SEED_NOTES[section]})."
    return text


def _field_table(section: str, model: type[BaseModel], facts: dict[str, str]) -> str:
    rows = []
    for key, (typ, default, meaning) in EXTRA_KEYS.get(section, {}).items():
        rows.append((f"`{key}`", typ, default, _fill(meaning, facts)))
    for name, f in model.model_fields.items():
        typ = TYPE_OVERRIDES.get(section, {}).get(name) or _type(f.annotation, f.metadata)
        rows.append((f"`{name}`", _fill(typ, facts), _default(f), _fill(_meaning(section, model, name, f), facts)))
    return _table(rows, ("Key", "Type / allowed values", "Default", "Meaning"))


def _check_extras() -> None:
    """The text kept here belongs to no field: an extra key that became a field has its meaning in the schema, and
    every sweep job kind with ``seeds`` (and only those) has a note on what its seed sets."""
    for section, keys in EXTRA_KEYS.items():
        model = SECTIONS[section]
        both = sorted(set(keys) & set(model.model_fields))
        if both:
            raise ConfigDocError(f"{COMMAND}: EXTRA_KEYS[{section!r}] describes {both}, now a field of {model.__name__}; "
                                 "remove it from EXTRA_KEYS (the field's docstring in the schema is its meaning)")
    want = {s for s, m in SECTIONS.items() if s.startswith("sweep.") and "seeds" in m.model_fields}
    if set(SEED_NOTES) != want:
        odd = sorted(set(SEED_NOTES) ^ want)
        raise ConfigDocError(f"{COMMAND}: SEED_NOTES covers {sorted(SEED_NOTES)}, the sweep jobs with `seeds` are "
                             f"{sorted(want)} (differ in {odd}); update tools/config_reference.py")


def _param_names_table() -> str:
    from globalfit.physics.parameters import PARAMETERS

    rows = []
    for p in PARAMETERS.values():
        unit = "rad" if p.is_angle else (p.unit or "—")
        if p.is_angle and not (math.isfinite(p.lower) or math.isfinite(p.upper)):
            rng = "any finite angle"
        else:
            lo = "(0" if p.strictly_positive and p.lower <= 0 else f"[{p.lower:.4g}"
            rng = f"{lo}, {p.upper:.4g}]"
            if p.smallest_nonzero > 0:
                rng = f"0, or {p.smallest_nonzero:.4g} <= abs(x) <= {p.upper:.4g}"
        rows.append((f"`{p.name}`", unit, f"{p.default:g}", rng, p.description))
    missing = [n for n in run_schema.EXTRA_PARAM_NAMES if n not in EXTRA_PARAMS]
    if missing:
        raise ConfigDocError(f"{COMMAND}: config parameter {missing[0]} has no row; add it to EXTRA_PARAMS in tools/config_reference.py")
    for name in run_schema.EXTRA_PARAM_NAMES:
        default, rng, meaning = EXTRA_PARAMS[name]
        rows.append((f"`{name}`", "—", default, rng, meaning))
    return _table(rows, ("Name", "Unit", "Default (when not in the config)", "Physical range", "Meaning"))


def _prior_kinds_table(facts: dict[str, str]) -> str:
    kinds = tuple(run_schema.PRIOR_KINDS)
    if set(kinds) != set(PRIOR_KIND_ROWS):
        raise ConfigDocError(f"{COMMAND}: PRIOR_KIND_ROWS lists {sorted(PRIOR_KIND_ROWS)}, the schema {sorted(kinds)}; update tools/config_reference.py")
    rows = [(f"`{k}`",) + tuple(_fill(c, facts) for c in PRIOR_KIND_ROWS[k]) for k in kinds]
    return _table(rows, ("`prior:`", "Needs", "Also takes", "Distribution"))


def _prior_sets_table() -> str:
    rows = []
    for path in sorted(run_schema.PRIORS_DIR.glob("*.yaml"), key=lambda p: p.stem):
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        params = data.get("params", data) if isinstance(data, dict) else {}
        sampled = [k for k, v in params.items() if isinstance(v, dict) and "prior" in v]
        fixed = [f"{k} = {v.get('value') if isinstance(v, dict) else v}" for k, v in params.items() if k not in sampled]
        rows.append((f"`{path.stem}`", f"`priors/{path.name}`", ", ".join(sampled) or "—", ", ".join(fixed) or "—"))
    return _table(rows, ("`priors:`", "File", "Samples", "Fixes"))


def tables() -> dict[str, str]:
    """Every generated block of docs/config.md: {id: Markdown}."""
    _check_extras()
    facts = _facts()
    out = {section: _field_table(section, model, facts) for section, model in SECTIONS.items()}
    out["run.param-names"] = _param_names_table()
    out["run.prior-kinds"] = _prior_kinds_table(facts)
    out["run.prior-sets"] = _prior_sets_table()
    return out


def generated_blocks(text: str) -> dict[str, str]:
    """{id: content} of the generated blocks of a document (content without the marker lines)."""
    out = {}
    for m in _BEGIN_RE.finditer(text):
        end = END.format(id=m.group(1))
        stop = text.find(end, m.end())
        if stop < 0:
            raise ConfigDocError(f"docs/config.md: generated block {m.group(1)!r} has no closing {end}")
        out[m.group(1)] = text[m.end():stop].strip("\n")
    return out


def update(text: str) -> str:
    """``text`` with every generated block rewritten; an id without markers in the text is an error."""
    new = tables()
    missing = [i for i in new if i not in generated_blocks(text)]
    if missing:
        raise ConfigDocError(f"docs/config.md: no markers for the generated block {missing[0]!r}; add "
                             f"{BEGIN.format(id=missing[0], command=COMMAND)} ... {END.format(id=missing[0])}")

    def one(m: re.Match) -> str:
        block = m.group(1)
        if block not in new:
            raise ConfigDocError(f"docs/config.md: generated block {block!r} is not made by {COMMAND}; remove its markers")
        return f"{BEGIN.format(id=block, command=COMMAND)}\n{new[block]}\n{END.format(id=block)}"

    pattern = re.compile(_BEGIN_RE.pattern + r".*?<!-- end generated:\1 -->", re.S)
    return pattern.sub(one, text)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--check", action="store_true", help="do not write; exit 1 if docs/config.md is out of date")
    ap.add_argument("--doc", type=Path, default=DOC, help="the document (default docs/config.md)")
    args = ap.parse_args(argv)
    try:
        text = args.doc.read_text(encoding="utf-8")
        new = update(text)
    except ConfigDocError as exc:
        print(exc, file=sys.stderr)
        return 2
    if args.check:
        if new != text:
            print(f"{args.doc}: out of date with the config schema; run `{COMMAND}`", file=sys.stderr)
            return 1
        return 0
    if new != text:
        args.doc.write_text(new, encoding="utf-8")
        print(f"{args.doc}: tables regenerated", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
