"""U(1)' scenarios: the generator X = b B + sum_alpha l_alpha L_alpha (docs/physics.md §1).

Charges (times g_X): quarks b/3 (vector, u and d alike), charged lepton alpha l_alpha (vector),
left-handed nu_alpha l_alpha. The new Dirac fermion Psi carries g_Psi; the second doublet H'
carries g_Psi - g_l, with g_l = g_X l of the flavours Psi mixes with (Farzan & Heeck,
arXiv:1607.07616, Sec. 2). In a flavoured scenario Psi can only mix with flavours of equal l_alpha.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["Scenario", "SCENARIOS", "get_scenario", "FLAVOURS"]

FLAVOURS: tuple[str, str, str] = ("e", "mu", "tau")


@dataclass(frozen=True)
class Scenario:
    """A U(1)' charge assignment. Hashable, so it can be a static argument of jitted code."""

    name: str
    b: float
    l: tuple[float, float, float]
    latex: str

    @property
    def q_quark(self) -> float:
        """Charge of u and d quarks in units of g_X (b/3)."""
        return self.b / 3.0

    @property
    def q_electron(self) -> float:
        return self.l[0]

    @property
    def has_charged_lepton_charge(self) -> bool:
        return any(li != 0.0 for li in self.l)

    def mixing_lepton_charge(self, mixes_with: tuple[bool, bool, bool] = (True, True, True)) -> float:
        """l of the flavours Psi mixes with (must be equal for all of them).

        Raises ValueError when Psi is asked to mix with flavours of different charge, which the
        gauge symmetry forbids (the Yukawa L_alpha H'~ Psi_R is then not invariant for all alpha).
        """
        charges = {self.l[i] for i, m in enumerate(mixes_with) if m}
        if len(charges) > 1:
            used = [f for f, m in zip(FLAVOURS, mixes_with) if m]
            raise ValueError(
                f"scenario {self.name}: Psi cannot mix with flavours {used} of different "
                f"U(1)' charge {[self.l[FLAVOURS.index(f)] for f in used]}; set the other Yukawas to 0"
            )
        return charges.pop() if charges else 0.0


SCENARIOS: dict[str, Scenario] = {
    "B": Scenario("B", 1.0, (0.0, 0.0, 0.0), r"U(1)_B"),
    "B-L": Scenario("B-L", 1.0, (-1.0, -1.0, -1.0), r"U(1)_{B-L}"),
    "L": Scenario("L", 0.0, (1.0, 1.0, 1.0), r"U(1)_L"),
    "B-3Ltau": Scenario("B-3Ltau", 1.0, (0.0, 0.0, -3.0), r"U(1)_{B-3L_\tau}"),
}


def get_scenario(name: str) -> Scenario:
    """Look a scenario up by name; raises KeyError with the list of valid names."""
    try:
        return SCENARIOS[name]
    except KeyError:
        raise KeyError(f"unknown scenario {name!r}; expected one of {sorted(SCENARIOS)}") from None
