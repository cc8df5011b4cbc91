"""M_Psi > M_Zp built into the parametrisation: the sampled prior is the config's prior truncated to M_Psi > M_Zp."""

import jax
import numpy as np
import yaml
from numpyro.infer import MCMC, NUTS

from globalfit.problem.config import RunConfig
from globalfit.problem.parametrisation import psi_above_zp, sites_for
from globalfit.problem import problem_from_config


def _cfg(psi_max=100.0):
    return RunConfig.model_validate(
        yaml.safe_load(
            f"""
model: {{scenario: B}}
params:
  M_Zp: {{prior: log-uniform, min: 1.0e-3, max: 1.0}}
  M_Psi: {{prior: log-uniform, min: 1.0e-3, max: {psi_max}}}
  r_H: 0.5  # Eq. (9) by construction, so only M_Psi > M_Zp shapes the prior
"""
        )
    )


def test_active_only_when_the_psi_range_extends_above_every_M_Zp():
    assert psi_above_zp(_cfg()) and sites_for(_cfg())["M_Psi"].site == "u_M_Psi"
    assert not psi_above_zp(_cfg(psi_max=0.5))


def test_prior_is_the_truncated_prior():
    """Uniform on {x in [-3, 0], y in [-3, 2], y > x} (x, y = log10 M_Zp, log10 M_Psi): E[x] = -18/10.5."""
    mcmc = NUTS(problem_from_config(_cfg(), "test").numpyro_model())
    run = MCMC(mcmc, num_warmup=500, num_samples=4000, num_chains=1, progress_bar=False)
    run.run(jax.random.PRNGKey(0))
    s = run.get_samples()
    x, y = np.log10(np.asarray(s["M_Zp"])), np.log10(np.asarray(s["M_Psi"]))
    assert np.all(y > x)
    assert abs(np.mean(x) + 18 / 10.5) < 0.08
    assert int(run.get_extra_fields()["diverging"].sum()) == 0
