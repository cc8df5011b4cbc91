"""NUTS with Metropolis moves on chosen sites (Metropolis within Gibbs), for posteriors whose steep structure lies
along a few directions: ``sampler.metropolis`` names them.

On the full models the step size of NUTS is set by mass edges (ends of search curves, thresholds, beam-dump bands:
docs/performance.md, "NUTS geometry", "Why the mass edges stay") and by the jump of a signed log-scale site at 0.
Those are physics or exact parametrisations and stay. This kernel moves the sites that carry them (masses, g_X, the
signed g_Psi) by random-walk Metropolis given the others, and NUTS moves the rest given them. Each transition:

1. ``steps`` Metropolis steps on the Metropolis sites m at fixed NUTS sites r: propose m' = m + s ξ, ξ ~ N(0, 1) per
   site, with s = 0.3 σ or 1.7 σ (probability 1/2 each; σ the site's prior standard deviation in unconstrained
   coordinates); accept with min(1, p(r, m') / p(r, m)). A symmetric proposal, so each step leaves p(m | r) invariant
   (Metropolis et al. 1953; Hastings 1970). A proposal of non-finite density is rejected.
2. One NUTS transition (numpyro's ``hmc(algo="NUTS")``, with its step-size and mass-matrix adaptation in warm-up) on
   r at the new m: it leaves p(r | m) invariant.

Both leave the joint posterior invariant, so their composition does (Metropolis within Gibbs; e.g. Robert & Casella,
Monte Carlo Statistical Methods, 2nd ed., Sec. 10.3.3). Warm-up adapts only NUTS's step size and mass matrix.

The kernel has numpyro's ``MCMCKernel`` interface and a state whose ``z`` holds every site, so the run engine
(:mod:`globalfit.inference.nuts`: chunks, resume, devices) drives it as it drives NUTS. Measured on full_B:
docs/performance.md, "Metropolis moves on the mass sites".
"""

from __future__ import annotations

from typing import Any, Callable, Mapping, NamedTuple, Sequence

import jax
import jax.numpy as jnp
from jax import lax
from numpyro.infer.hmc import HMCState, hmc
from numpyro.infer.mcmc import MCMCKernel
from numpyro.infer.util import ParamInfo

__all__ = ["SCALE_FACTORS", "MetropolisNUTSState", "MetropolisNUTS", "metropolis_steps"]

# proposal widths in units of each site's prior sd in unconstrained coordinates (a uniform prior's logit image has sd
# 1.81): one local and one box-crossing scale, chosen with probability 1/2 each; on full_B they accept ~31 % of
# proposals (docs/performance.md, "Metropolis moves on the mass sites")
SCALE_FACTORS = (0.3, 1.7)


class MetropolisNUTSState(NamedTuple):
    """A chain's state: NUTS's state on the NUTS sites (``hmc``), the Metropolis sites' unconstrained values
    (``fixed``) and the Metropolis proposals accepted in the last transition (``accepted``). The fields NUTS's state
    offers (``z``, ``potential_energy``, ``diverging``, ...) read through, ``z`` and ``z_grad`` over every site
    (``z_grad`` is 0 on the Metropolis sites: their moves need no gradient)."""

    hmc: HMCState
    fixed: dict
    accepted: jnp.ndarray

    @property
    def z(self) -> dict:
        return {**self.hmc.z, **self.fixed}

    @property
    def z_grad(self) -> dict:
        return {**self.hmc.z_grad, **jax.tree.map(jnp.zeros_like, self.fixed)}

    def __getattr__(self, name: str):
        """The other fields of NUTS's state (``potential_energy``, ``diverging``, ``num_steps``, ``adapt_state``, ...)."""
        if name.startswith("__"):
            raise AttributeError(name)
        return getattr(self.hmc, name)


def metropolis_steps(potential: Callable[[dict], jnp.ndarray], rest: Mapping[str, Any], fixed: dict, pe, key,
                     sd: Mapping[str, float], steps: int) -> tuple[dict, jnp.ndarray, jnp.ndarray]:
    """``steps`` random-walk Metropolis steps on the sites of ``fixed`` given ``rest`` (module docstring, step 1);
    ``pe`` = potential(rest + fixed). Returns (fixed, its potential, proposals accepted)."""
    names = sorted(fixed)
    small, large = SCALE_FACTORS

    def step(carry, k):
        m, u, n = carry
        k_scale, k_move, k_accept = jax.random.split(k, 3)
        factor = jnp.where(jax.random.uniform(k_scale) < 0.5, small, large)
        xi = jax.random.normal(k_move, (len(names),))
        prop = {s: m[s] + factor * sd[s] * xi[j] for j, s in enumerate(names)}
        u_new = potential({**rest, **prop})
        ok = jnp.isfinite(u_new) & (jnp.log(jax.random.uniform(k_accept)) < u - u_new)
        m = {s: jnp.where(ok, prop[s], m[s]) for s in names}
        return (m, jnp.where(ok, u_new, u), n + ok), None

    (fixed, pe, n), _ = lax.scan(step, (fixed, pe, jnp.zeros((), jnp.int32)), jax.random.split(key, steps))
    return fixed, pe, n


class MetropolisNUTS(MCMCKernel):
    """NUTS on every site but ``sites``, random-walk Metropolis on ``sites`` (module docstring). ``potential``:
    {site: unconstrained value} -> -ln p; ``sd``: the prior sd of each Metropolis site in unconstrained coordinates;
    ``steps`` Metropolis steps per transition. Vectorised chains: ``init`` with a batch of keys (as numpyro's NUTS)."""

    sample_field = "z"

    def __init__(self, potential: Callable[[dict], jnp.ndarray], sites: Sequence[str], sd: Mapping[str, float],
                 steps: int = 50, *, target_accept_prob: float = 0.8, max_tree_depth: int = 10, dense_mass: bool = False):
        self._potential = potential
        self.sites = tuple(sorted(sites))
        self._sd = {s: float(sd[s]) for s in self.sites}
        self.steps = int(steps)
        self._nuts = dict(target_accept_prob=target_accept_prob, max_tree_depth=max_tree_depth, dense_mass=dense_mass)
        self._sample_fn: Callable | None = None

    @property
    def model(self):
        return None

    def _conditional(self, fixed: dict) -> Callable[[dict], jnp.ndarray]:
        """-ln p of the NUTS sites at the given Metropolis sites (numpyro's ``potential_fn_gen``)."""
        return lambda rest: self._potential({**rest, **fixed})

    def _split(self, z: Mapping[str, Any]) -> tuple[dict, dict]:
        return ({k: v for k, v in z.items() if k not in self.sites}, {k: z[k] for k in self.sites})

    def init(self, rng_key, num_warmup, init_params, model_args=(), model_kwargs=None):
        z = init_params.z if isinstance(init_params, ParamInfo) else init_params
        init_kernel, sample_kernel = hmc(potential_fn_gen=self._conditional, algo="NUTS")

        def init_one(key, z):
            rest, fixed = self._split(z)
            state = init_kernel(rest, num_warmup, model_kwargs={"fixed": fixed}, rng_key=key, **self._nuts)
            return MetropolisNUTSState(state, fixed, jnp.zeros((), jnp.int32))

        def sample_one(state: MetropolisNUTSState) -> MetropolisNUTSState:
            hs = state.hmc
            key, k_mh = jax.random.split(hs.rng_key)
            fixed, _, accepted = metropolis_steps(self._potential, hs.z, state.fixed, hs.potential_energy, k_mh,
                                                  self._sd, self.steps)
            pe, grad = jax.value_and_grad(self._conditional(fixed))(hs.z)
            hs = sample_kernel(hs._replace(rng_key=key, potential_energy=pe, z_grad=grad), model_kwargs={"fixed": fixed})
            return MetropolisNUTSState(hs, fixed, accepted)

        batched = jnp.ndim(rng_key) > 1
        self._sample_fn = jax.vmap(sample_one) if batched else sample_one
        return jax.vmap(init_one)(rng_key, z) if batched else init_one(rng_key, z)

    def sample(self, state, model_args, model_kwargs):
        return self._sample_fn(state)

    def postprocess_fn(self, args, kwargs):
        return lambda z: z

    @property
    def default_fields(self):
        return ("z", "diverging")

    def get_diagnostics_str(self, state):
        return "{} steps of size {:.2e}; Metropolis accepted {}/{}".format(
            state.num_steps, state.adapt_state.step_size, state.accepted, self.steps)
