"""Inference (layer 4): functions of a :class:`globalfit.problem.FitProblem` that return values.

:mod:`.nuts` (NUTS chains written to a run directory), :mod:`.profile` (profile-likelihood maps in (M_Zp, g_X)),
:mod:`.evidence` (ln Z by nested sampling, Bayes factors).
"""
