"""Physics core (layer 1): pure JAX model functions, float64, GeV.

:mod:`.constants` (PDG via `pdg`, CODATA), :mod:`.scenarios` (U(1)' charges), :mod:`.parameters`, :mod:`.couplings`
(Eqs. 8-10 of arXiv:1607.07616), :mod:`.nsi` (Eqs. 11, 15, 31-32), :mod:`.loops` and :mod:`.lfv` (Eqs. 16-26),
:mod:`.widths` and :mod:`.hadrons` (Z' widths), :mod:`.scattering` (nu-e and CEvNS rates), :mod:`.rates` (those rates
tabulated against M_Zp), :mod:`.interp` (fixed-shape interpolation, no search loops), :mod:`.model` (parameters
-> every derived observable), :mod:`.validation` (the paper's quoted numbers recomputed). Imports nothing above it.
"""
