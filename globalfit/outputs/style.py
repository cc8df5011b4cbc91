"""Figure style shared by every plot: the non-interactive matplotlib backend and LaTeX labels of every quantity."""

from __future__ import annotations

from globalfit.physics.model import DERIVED_INFO
from globalfit.physics.parameters import PARAMETERS

__all__ = ["pyplot", "label_of"]


def pyplot():
    """matplotlib.pyplot on the Agg backend (files only, no screen)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def label_of(name: str) -> str:
    """LaTeX label of a parameter, a sampling site or a derived quantity."""
    for prefix, tex in (("log10_", r"\log_{10}"), ("ln_", r"\ln")):
        if name.startswith(prefix):
            return rf"${tex} {label_of(name[len(prefix):]).strip('$')}$"
    if name in PARAMETERS:
        return f"${PARAMETERS[name].latex}$"
    if name in DERIVED_INFO:
        return f"${DERIVED_INFO[name][0]}$"
    return name.replace("_", r"\_")
