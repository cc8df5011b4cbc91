"""The result of a profile-likelihood map (:mod:`globalfit.inference.profile`) and its file format (``profile.npz``)."""

from __future__ import annotations

import json
import math
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from globalfit.errors import InputError
from likelihoods.stats import ALLOWED_DELTA_CHI2, delta_chi2
from globalfit.outputs.rundir import atomic_path

__all__ = ["THRESHOLDS", "ProfileResult", "load_profile"]

# -2 Delta ln L: allowed at 90 % CL (1 dof, the convention of likelihoods.stats: a constraint alone reproduces its
# published 90 % CL limit) and 95 % CL in the 2-dof (M_Zp, g_X) plane
THRESHOLDS = (ALLOWED_DELTA_CHI2, delta_chi2(0.95, dof=2))


@dataclass
class ProfileResult:
    """A profile map. Arrays are indexed ``[i_g, i_M]`` (g_X rows, M_Zp columns); ``q_max``/``q_min`` are
    ``[i_quantity, i_threshold, i_g, i_M]``."""

    log10_M: np.ndarray
    log10_g: np.ndarray
    lnL: np.ndarray  # profile of the included likelihoods
    lnL_ref: float
    quantities: list[str]
    thresholds: tuple[float, ...]
    q_max: np.ndarray
    q_min: np.ndarray
    included: list[str]
    excluded: list[str]
    scenario: str
    best: dict[str, np.ndarray] = field(default_factory=dict)  # nuisance values at the profile optimum
    at_max: dict[str, np.ndarray] = field(default_factory=dict)  # nuisance values where q_max is reached, [i_q, i_t, i_g, i_M]
    at_min: dict[str, np.ndarray] = field(default_factory=dict)
    seconds: float = 0.0
    settings: dict = field(default_factory=dict)
    lnL_sm: float | None = None  # ln L of the included likelihoods at the SM point (None in files written before it)

    @property
    def chi2(self) -> np.ndarray:
        """-2 [lnL_prof - lnL_ref] on the grid."""
        return -2.0 * (self.lnL - self.lnL_ref)

    @property
    def best_vs_sm(self) -> float | None:
        """-2 [lnL_ref - lnL_SM]: the best cell against the Standard-Model point (g_X = 0, y_alpha = 0), the reference
        of a quoted Delta chi^2 (:mod:`likelihoods.stats`); negative where the data prefer the best cell."""
        return None if self.lnL_sm is None else -2.0 * (self.lnL_ref - self.lnL_sm)

    def chi2_vs_sm(self) -> np.ndarray | None:
        """-2 [lnL_prof - lnL_SM] on the grid (None without lnL_SM)."""
        return None if self.lnL_sm is None else -2.0 * (self.lnL - self.lnL_sm)

    def allowed(self, threshold: float = THRESHOLDS[0]) -> np.ndarray:
        return self.chi2 <= threshold

    def _t(self, threshold: float) -> int:
        for i, t in enumerate(self.thresholds):
            if math.isclose(t, threshold):
                return i
        raise InputError(f"threshold {threshold} not computed; available: {list(self.thresholds)}")

    def _q(self, quantity: str | None) -> int:
        if quantity is None:
            return 0
        if quantity not in self.quantities:
            raise InputError(f"quantity {quantity!r} not computed; available: {self.quantities}")
        return self.quantities.index(quantity)

    def extremes(self, quantity: str | None = None, threshold: float = THRESHOLDS[0]) -> tuple[np.ndarray, np.ndarray]:
        """(q_min, q_max) maps of one quantity at one threshold."""
        i, t = self._q(quantity), self._t(threshold)
        return self.q_min[i, t], self.q_max[i, t]

    def reach(self, quantity: str | None = None, threshold: float = THRESHOLDS[0]) -> np.ndarray:
        """max |q| reachable, max(|q_max|, |q_min|) (NaN where infeasible)."""
        lo, hi = self.extremes(quantity, threshold)
        with np.errstate(invalid="ignore"):
            return np.fmax(np.abs(hi), np.abs(lo))

    def point(self, i_g: int, i_M: int, where: str = "best", quantity: str | None = None, threshold: float = THRESHOLDS[0]) -> dict[str, float]:
        """The parameter point (config values, r_H kept) at grid node (i_g, i_M): the profile optimum (``best``) or
        where q_max / q_min is reached (``max`` / ``min``)."""
        if where == "best":
            vals = {k: float(v[i_g, i_M]) for k, v in self.best.items()}
        else:
            src = self.at_max if where == "max" else self.at_min
            iq, it = self._q(quantity), self._t(threshold)
            vals = {k: float(v[iq, it, i_g, i_M]) for k, v in src.items()}
        return dict(self.settings.get("fixed", {}), M_Zp=self.settings["sign_M"] * 10.0 ** self.log10_M[i_M],
                    g_X=self.settings["sign_g"] * 10.0 ** self.log10_g[i_g], **vals)

    def index(self, M_Zp: float, g_X: float) -> tuple[int, int]:
        """Grid indices ``(i_g, i_M)`` of the point nearest to (M_Zp, g_X) in log space."""
        return int(np.argmin(np.abs(self.log10_g - math.log10(g_X)))), int(np.argmin(np.abs(self.log10_M - math.log10(M_Zp))))

    def save(self, path: Path) -> Path:
        arrays = {"log10_M": self.log10_M, "log10_g": self.log10_g, "lnL": self.lnL, "chi2": self.chi2, "q_max": self.q_max, "q_min": self.q_min,
                      "thresholds": np.asarray(self.thresholds)}
        for prefix, d in (("best", self.best), ("at_max", self.at_max), ("at_min", self.at_min)):
            arrays.update({f"{prefix}:{k}": v for k, v in d.items()})
        meta = {"quantities": self.quantities, "lnL_ref": self.lnL_ref, "lnL_sm": self.lnL_sm, "included": self.included, "excluded": self.excluded,
                    "scenario": self.scenario, "seconds": self.seconds, "settings": self.settings}
        with atomic_path(Path(path)) as tmp, open(tmp, "wb") as fh:  # complete or absent after a kill
            np.savez(fh, meta=np.asarray(json.dumps(meta)), **arrays)
        return path


_ARRAYS = ("log10_M", "log10_g", "lnL", "thresholds", "q_max", "q_min")
_META = {"quantities": list, "lnL_ref": (int, float), "included": list, "excluded": list, "scenario": str, "seconds": (int, float),
         "settings": dict}


def load_profile(path: Path) -> ProfileResult:
    """Read a ``profile.npz`` written by :meth:`ProfileResult.save`; any other file is one InputError line naming it."""
    path = Path(path)
    if not path.is_file():
        raise InputError(f"{path}: no such profile file (written by `globalfit profile` as <out>/profile.npz)")
    what = "not a globalfit profile file (written by `globalfit profile` as <out>/profile.npz)"
    try:
        z = np.load(path, allow_pickle=False)
    except (OSError, ValueError, EOFError, zipfile.BadZipFile) as exc:
        raise InputError(f"{path}: {what}: not a readable .npz archive ({type(exc).__name__})") from None
    if not isinstance(z, np.lib.npyio.NpzFile):  # a single .npy array
        raise InputError(f"{path}: {what}: a single array, not an .npz archive")
    try:
        with z:
            if "meta" not in z.files:
                raise InputError(f"{path}: {what} (no 'meta' entry)")
            missing = [k for k in _ARRAYS if k not in z.files]
            if missing:
                raise InputError(f"{path}: {what}: the arrays {missing} are missing")
            try:
                meta = json.loads(str(z["meta"]))
            except ValueError:
                raise InputError(f"{path}: {what}: its 'meta' entry is not JSON") from None
            if not isinstance(meta, dict):
                raise InputError(f"{path}: {what}: its 'meta' entry is not a JSON object")
            bad = [k for k, t in _META.items() if not isinstance(meta.get(k), t) or isinstance(meta.get(k), bool)]
            if bad:
                raise InputError(f"{path}: {what}: 'meta' lacks (or has a malformed) {', '.join(map(repr, bad))}")
            groups: dict[str, dict] = {"best": {}, "at_max": {}, "at_min": {}}
            for key in z.files:
                prefix, sep, name = key.partition(":")
                if sep and prefix in groups:
                    groups[prefix][name] = z[key]
            arrays = {k: z[k] for k in _ARRAYS}
    except (OSError, ValueError, EOFError, zipfile.BadZipFile) as exc:
        raise InputError(f"{path}: {what}: an entry cannot be read ({type(exc).__name__})") from None
    return ProfileResult(
        log10_M=arrays["log10_M"], log10_g=arrays["log10_g"], lnL=arrays["lnL"], lnL_ref=meta["lnL_ref"], quantities=meta["quantities"],
        thresholds=tuple(float(t) for t in np.ravel(arrays["thresholds"])), q_max=arrays["q_max"], q_min=arrays["q_min"],
        included=meta["included"], excluded=meta["excluded"], scenario=meta["scenario"], best=groups["best"], at_max=groups["at_max"],
        at_min=groups["at_min"], seconds=meta["seconds"], settings=meta["settings"], lnL_sm=meta.get("lnL_sm"))
