"""NUTS with Metropolis moves on chosen sites (Metropolis within Gibbs), for posteriors whose steep structure lies
along a few directions: ``sampler.metropolis`` names them.

On the full models the step size of NUTS is set by mass edges (ends of search curves, thresholds, beam-dump bands:
docs/performance.md, "NUTS geometry", "Why the mass edges stay") and by the jump of a signed log-scale site at 0.
Those are physics or exact parametrisations and stay. This kernel moves the sites that carry them (masses, g_X, the
signed g_Psi) by random-walk Metropolis given the others, and NUTS moves the rest given them. Each transition:

1. ``steps`` Metropolis steps on the Metropolis sites m at fixed NUTS sites r: propose m' = m + δ, a local step δ = L ξ
   (probability 3/4) or a box-crossing step δ = 1.7 σ ⊙ ξ (1/4), ξ ~ N(0, 1) per site, σ the sites' prior standard
   deviations in unconstrained coordinates; accept with min(1, p(r, m') / p(r, m)). A mixture
   of symmetric proposals with fixed weights is symmetric, so each step leaves p(m | r) invariant (Metropolis et al.
   1953; Hastings 1970). A proposal of non-finite density is rejected.

   The local step's matrix L starts as 0.3 diag(σ). With ``adapt`` (the default) each chain learns it in warm-up:
   L = (2.38/√d) chol(Σ̂ + 1e-6 diag(σ²)), Σ̂ the covariance of the chain's own Metropolis sites over its warm-up
   transitions after the first quarter, updated after each (adaptive Metropolis, Haario, Saksman & Tamminen, Bernoulli 7
   (2001) 223, with the 2.38/√d scaling of Roberts, Gelman & Gilks, Ann. Appl. Prob. 7 (1997) 110). L is frozen at
   the end of warm-up, so the draws come from a fixed, valid kernel.

   **Independence proposals** (``independence`` = s > 0, ``sampler.metropolis_independence``). Once the chain's
   covariance is learnt, a share s of the proposals ignores the current point: m' ~ q = t_ν(μ̂, Σ̂ + 1e-6 diag(σ²)), the
   multivariate Student t (ν = :data:`INDEPENDENCE_DF`) of the chain's own warm-up mean and covariance, accepted with
   min(1, p(r, m') q(m) / (p(r, m) q(m'))) (the independence sampler, Tierney, Ann. Statist. 22 (1994) 1701);
   the other proposals are the local and box-crossing steps above in their ratio 3 : 1. Each of the three is a
   Metropolis-Hastings kernel of p(m | r), so their mixture with fixed weights is too. An accepted independence proposal
   is a fresh draw from q reweighted, so few steps decorrelate the Metropolis sites where q covers the posterior
   (measured on full_B: docs/performance.md, "Independence proposals in the Metropolis steps"). q is frozen with L at
   the end of warm-up.
2. One NUTS transition (numpyro's ``hmc(algo="NUTS")``, with its step-size and mass-matrix adaptation in warm-up) on
   r at the new m: it leaves p(r | m) invariant.

Both leave the joint posterior invariant, so their composition does (Metropolis within Gibbs; e.g. Robert & Casella,
Monte Carlo Statistical Methods, 2nd ed., Sec. 10.3.3). Warm-up adapts NUTS's step size and mass matrix and the
local Metropolis step; the draws use them fixed.

**Delayed acceptance** (``sampler.delayed_acceptance``). Write the target as -ln p = U + D, with D the -ln L of a few
likelihoods whose steep edges stop NUTS (the beam-dump lifetime bands along the Yukawas: docs/performance.md, "Where
the remaining divergences come from") and U the rest. NUTS's trajectories then see U only, and its proposal r' is
accepted with min(1, exp(D(r) - D(r'))) (r kept otherwise). NUTS with a fixed step size and mass matrix satisfies detailed
balance with respect to its own target exp(-U) (Hoffman & Gelman, JMLR 15 (2014) 1593; the multinomial NUTS numpyro
runs as a case of Bou-Rabee, Carpenter & Marsden's GIST samplers, arXiv:2404.15253), so this accept/reject leaves
exp(-U - D) invariant: the surrogate transition method (Liu, Monte Carlo Strategies in Scientific
Computing, Springer 2001; Christen & Fox, J. Comput. Graph. Stat. 14 (2005) 795). The Metropolis steps of step 1 use
U + D. Nothing of the density changes; the edges only leave the gradient's path. D may also hold the physical-support
cut (``support``: +inf where |κ_α| ≥ 1 or cos β > 1, whose -inf walls end every trajectory that reaches them as a
divergence); U is then finite there (the likelihoods see only physical points: ``FitProblem.likelihood_point``) and
the delayed step rejects what lands outside. Measured on full_B: docs/performance.md, "Delayed acceptance".

The kernel has numpyro's ``MCMCKernel`` interface and a state whose ``z`` holds every site, so the run engine
(:mod:`globalfit.inference.nuts`: chunks, resume, devices) drives it as it drives NUTS. Measured on full_B:
docs/performance.md, "Metropolis moves on the mass sites" and "Adaptive Metropolis steps, and the bench on the run
engine".
"""

from __future__ import annotations

from typing import Any, Callable, Mapping, NamedTuple, Sequence

import jax
import jax.numpy as jnp
from jax import lax
from numpyro.infer.hmc import HMCState, hmc
from numpyro.infer.mcmc import MCMCKernel
from numpyro.infer.util import ParamInfo

__all__ = ["SCALE_FACTORS", "INDEPENDENCE_DF", "ACCEPTED", "REJECTED", "REJECTED_OUTSIDE", "ProposalState", "MetropolisNUTSState", "MetropolisNUTS", "metropolis_steps",
           "initial_proposal", "adapt_proposal", "independence_log_q"]

# proposal widths in units of each site's prior sd in unconstrained coordinates (a uniform prior's logit image has sd
# 1.81): the local step's before adaptation and the box-crossing step's; with probability 1/2 each, the unadapted pair
# accepted ~31 % of proposals on full_B (docs/performance.md, "Metropolis moves on the mass sites")
SCALE_FACTORS = (0.3, 1.7)
# adaptive Metropolis: the optimal random-walk scale 2.38/sqrt(d) (Roberts, Gelman & Gilks 1997), a jitter of
# 1e-6 sigma^2 on the learnt covariance, and the transitions a chain needs before its covariance is used
AM_SCALE, AM_JITTER, AM_MIN_COUNT = 2.38, 1e-6, 20
# the share of local steps (the rest cross the box); 3/4 mixed full_B's nine-site posterior better than 1/2 at 50 and
# 100 steps per transition (docs/performance.md, "Adaptive Metropolis steps, and the bench on the run engine")
LOCAL_SHARE = 0.75
# degrees of freedom of the independence proposal's multivariate t: tails heavier than a Gaussian's, so that p/q stays
# bounded where the chain's warm-up covariance underestimates the posterior's spread (module docstring); a whole
# number, so that its chi-square draw is a sum of squared normals (jax.random.gamma loops)
INDEPENDENCE_DF = 5
# what delayed acceptance did with a NUTS proposal (``MetropolisNUTSState.delayed_accepted``)
ACCEPTED, REJECTED, REJECTED_OUTSIDE = 1, 0, -1


class ProposalState(NamedTuple):
    """A chain's local Metropolis step: its matrix ``chol`` (lower triangular, d x d) and the running count, mean and
    sum of squared deviations (Welford) of the chain's Metropolis sites in warm-up."""

    chol: jnp.ndarray
    count: jnp.ndarray
    mean: jnp.ndarray
    m2: jnp.ndarray


class MetropolisNUTSState(NamedTuple):
    """A chain's state: NUTS's state on the NUTS sites (``hmc``), the Metropolis sites' unconstrained values
    (``fixed``), the Metropolis proposals accepted in the last transition (``accepted``), the local step
    (``proposal``) and, with delayed acceptance, D of the module docstring at the chain's point and what became of NUTS's last
    proposal (accepted, rejected, or rejected outside the physical support). The fields NUTS's state
    offers (``z``, ``potential_energy``, ``diverging``, ...) read through, ``z`` and ``z_grad`` over every site
    (``z_grad`` is 0 on the Metropolis sites: their moves need no gradient)."""

    hmc: HMCState
    fixed: dict
    accepted: jnp.ndarray
    proposal: ProposalState
    # with delayed acceptance: what became of the last NUTS proposal (ACCEPTED, REJECTED by D's likelihoods, or
    # REJECTED_OUTSIDE: D = +inf, outside the physical support), and D at the chain's point (else None)
    delayed_accepted: Any = None
    delayed_energy: Any = None

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


def _matvec(a: jnp.ndarray, v: jnp.ndarray) -> jnp.ndarray:
    """a @ v as a product and a sum (under vmap a fusion, where a batched dot is a slow kernel of its own)."""
    return jnp.sum(a * v, axis=-1)


def independence_log_q(m: jnp.ndarray, mean: jnp.ndarray, inverse_scale: jnp.ndarray) -> jnp.ndarray:
    """ln q(m) of the independence proposal t_ν(mean, S S^T) up to its constant (ν = INDEPENDENCE_DF), given S^-1:
    -(ν + d)/2 ln(1 + |S^-1 (m - mean)|²/ν)."""
    r = _matvec(inverse_scale, m - mean)
    return -0.5 * (INDEPENDENCE_DF + m.shape[0]) * jnp.log1p(jnp.sum(r * r) / INDEPENDENCE_DF)


def metropolis_steps(potential: Callable[[dict], jnp.ndarray], rest: Mapping[str, Any], fixed: dict, pe, key,
                     sd: Mapping[str, float], steps: int, chol: jnp.ndarray | None = None,
                     independence: tuple[jnp.ndarray, jnp.ndarray, jnp.ndarray] | None = None
                     ) -> tuple[dict, jnp.ndarray, jnp.ndarray]:
    """``steps`` Metropolis steps on the sites of ``fixed`` given ``rest`` (module docstring, step 1);
    ``pe`` = potential(rest + fixed); ``chol`` the local step's matrix over the sorted sites (default 0.3 diag(σ));
    ``independence`` = (share s, mean, scale): a share s of the proposals drawn from t_ν(mean, scale scale^T)
    (s may be 0 for a chain whose covariance is not learnt yet). Returns (fixed, its potential, proposals accepted)."""
    names = sorted(fixed)
    sigma = jnp.asarray([sd[s] for s in names])
    local = initial_proposal(sigma).chol if chol is None else chol
    d = len(names)
    # every step's random numbers drawn at once: per step, JAX's CPU threefry is a loop of small kernels
    k_pick, k_move, k_accept, k_chi2 = jax.random.split(key, 4)
    draws = (jax.random.uniform(k_pick, (steps,)), jax.random.normal(k_move, (steps, d)),
             jnp.log(jax.random.uniform(k_accept, (steps,))))
    if independence is not None:  # chi2_nu / nu of each step's t draw
        draws += (jnp.mean(jax.random.normal(k_chi2, (steps, INDEPENDENCE_DF)) ** 2, axis=1),)
        share, mean, scale = independence
        inverse_scale = jax.scipy.linalg.solve_triangular(scale, jnp.eye(d), lower=True)

    def step(carry, draw):
        x, u, n = carry[:3]
        pick, xi, log_accept = draw[:3]
        walk = jnp.where(pick < (LOCAL_SHARE if independence is None else share + (1.0 - share) * LOCAL_SHARE),
                         _matvec(local, xi), SCALE_FACTORS[1] * sigma * xi)
        if independence is None:
            y, log_ratio = x + walk, 0.0
        else:
            indep = pick < share
            y = jnp.where(indep, mean + _matvec(scale, xi) / jnp.sqrt(draw[3]), x + walk)
            lq_y = independence_log_q(y, mean, inverse_scale)
            log_ratio = jnp.where(indep, carry[3] - lq_y, 0.0)  # ln q(m) - ln q(m') for an independence proposal
        u_new = potential({**rest, **{s: y[j] for j, s in enumerate(names)}})
        ok = jnp.isfinite(u_new) & (log_accept < u - u_new + log_ratio)
        out = (jnp.where(ok, y, x), jnp.where(ok, u_new, u), n + ok)
        return (out if independence is None else (*out, jnp.where(ok, lq_y, carry[3]))), None

    x0 = jnp.stack([fixed[s] for s in names])
    init = (x0, pe, jnp.zeros((), jnp.int32))
    if independence is not None:
        init = (*init, independence_log_q(x0, mean, inverse_scale))
    (x, pe, n, *_), _ = lax.scan(step, init, draws)
    fixed = {s: x[j] for j, s in enumerate(names)}
    return fixed, pe, n


def initial_proposal(sigma: jnp.ndarray) -> ProposalState:
    """The local step before adaptation, 0.3 diag(σ), and empty running moments."""
    d = sigma.shape[0]
    return ProposalState(SCALE_FACTORS[0] * jnp.diag(sigma), jnp.zeros((), jnp.int32), jnp.zeros(d), jnp.zeros((d, d)))


def independence_proposal(p: ProposalState, d: int) -> tuple[jnp.ndarray, jnp.ndarray]:
    """(mean, scale) of the independence proposal t_ν(μ̂, Σ̂ + 1e-6 diag(σ²)) from a learnt local step: the chain's
    warm-up mean and L √d / 2.38 = chol(Σ̂ + 1e-6 diag(σ²)) (:func:`adapt_proposal`)."""
    return p.mean, p.chol * (jnp.sqrt(d) / AM_SCALE)


def adapt_proposal(p: ProposalState, x: jnp.ndarray, sigma: jnp.ndarray, on) -> ProposalState:
    """Add the sites ``x`` to the running moments and set the local step to (2.38/√d) chol(Σ̂ + 1e-6 diag(σ²)) once
    ``AM_MIN_COUNT`` transitions are in (module docstring); unchanged where ``on`` is false or the factorisation
    fails."""
    d = x.shape[0]
    count = p.count + 1
    delta = x - p.mean
    mean = p.mean + delta / count
    m2 = p.m2 + jnp.outer(delta, x - mean)
    cov = m2 / jnp.maximum(count - 1, 1) + AM_JITTER * jnp.diag(sigma**2)
    chol = AM_SCALE / jnp.sqrt(d) * jnp.linalg.cholesky(cov)
    use = on & (count >= AM_MIN_COUNT) & jnp.all(jnp.isfinite(chol))
    return ProposalState(jnp.where(use, chol, p.chol), jnp.where(on, count, p.count), jnp.where(on, mean, p.mean),
                         jnp.where(on, m2, p.m2))


class MetropolisNUTS(MCMCKernel):
    """NUTS on every site but ``sites``, random-walk Metropolis on ``sites`` (module docstring). ``potential``:
    {site: unconstrained value} -> -ln p (U of the module docstring with ``delayed``); ``delayed``: D, whose factor
    NUTS's proposals pass by delayed acceptance (``None``: none; ``sites`` may then be empty: plain NUTS with the
    accept/reject); ``sd``: the prior sd of each Metropolis site in unconstrained coordinates; ``steps`` Metropolis
    steps per transition; ``adapt``: learn each chain's local step in warm-up (module docstring); ``independence``: the
    share of independence proposals once it is learnt (needs ``adapt``; module docstring). Vectorised chains:
    ``init`` with a batch of keys (as numpyro's NUTS); a start's potential energy and gradient, where given
    (``ParamInfo``), are taken as U's, else computed (:meth:`own_start`)."""

    sample_field = "z"

    def __init__(self, potential: Callable[[dict], jnp.ndarray], sites: Sequence[str], sd: Mapping[str, float],
                 steps: int = 50, *, adapt: bool = True, independence: float = 0.0,
                 delayed: Callable[[dict], jnp.ndarray] | None = None,
                 target_accept_prob: float = 0.8, max_tree_depth: int = 10, dense_mass: bool = False):
        self._potential = potential
        self._delayed = delayed
        self.sites = tuple(sorted(sites))
        self._sd = {s: float(sd[s]) for s in self.sites}
        self._sigma = jnp.asarray([self._sd[s] for s in self.sites])  # made here: init may run under a trace (eval_shape)
        self.steps = int(steps)
        self.adapt = bool(adapt)
        self.independence = float(independence)
        if self.independence and not self.adapt:
            raise ValueError("independence proposals need the adapted covariance (adapt=True)")
        if not 0.0 <= self.independence <= 1.0:
            raise ValueError(f"independence: a share in [0, 1], got {independence}")
        self._nuts = dict(target_accept_prob=target_accept_prob, max_tree_depth=max_tree_depth, dense_mass=dense_mass)
        self._sample_fn: Callable | None = None

    @property
    def model(self):
        return None

    def _conditional(self, fixed: dict) -> Callable[[dict], jnp.ndarray]:
        """-ln p of the NUTS sites at the given Metropolis sites (numpyro's ``potential_fn_gen``)."""
        return lambda rest: self._potential({**rest, **fixed})

    def _target(self, z: dict) -> jnp.ndarray:
        """-ln p of the posterior: U + D with delayed acceptance, else the potential."""
        return self._potential(z) if self._delayed is None else self._potential(z) + self._delayed(z)

    def _split(self, z: Mapping[str, Any]) -> tuple[dict, dict]:
        return ({k: v for k, v in z.items() if k not in self.sites}, {k: z[k] for k in self.sites})

    def init(self, rng_key, num_warmup, init_params, model_args=(), model_kwargs=None):
        info = init_params if isinstance(init_params, ParamInfo) else ParamInfo(init_params, None, None)
        init_kernel, sample_kernel = hmc(potential_fn_gen=self._conditional, algo="NUTS")
        sigma = self._sigma
        first_adapted = num_warmup // 4  # the first quarter of warm-up is not used for the covariance
        delayed = self._delayed is not None

        def init_one(key, info: ParamInfo):
            rest, fixed = self._split(info.z)
            # a start with its potential and gradient is passed on, so that NUTS does not compute them again: they must be
            # NUTS's U (with delayed acceptance not the posterior's U + D: the caller then gives none, own_start)
            start = rest if info.potential_energy is None else ParamInfo(rest, info.potential_energy,
                                                                         self._split(info.z_grad)[0])
            state = init_kernel(start, num_warmup, model_kwargs={"fixed": fixed}, rng_key=key, **self._nuts)
            extra = (jnp.ones((), jnp.int32), self._delayed(info.z)) if delayed else ()
            return MetropolisNUTSState(state, fixed, jnp.zeros((), jnp.int32), initial_proposal(sigma), *extra)

        def metropolis(state: MetropolisNUTSState, key) -> tuple[dict, jnp.ndarray, jnp.ndarray, ProposalState]:
            """Step 1 of the module docstring: (sites, their -ln p, proposals accepted, local step)."""
            hs = state.hmc
            if not self.sites:
                return state.fixed, jnp.asarray(jnp.nan), jnp.zeros((), jnp.int32), state.proposal
            pe = hs.potential_energy if not delayed else hs.potential_energy + state.delayed_energy
            independence = None
            if self.independence:  # from the learnt covariance only: before it, local and box-crossing steps
                learnt = state.proposal.count >= AM_MIN_COUNT
                independence = (jnp.where(learnt, self.independence, 0.0),
                                *independence_proposal(state.proposal, len(self.sites)))
            fixed, pe, accepted = metropolis_steps(self._target, hs.z, state.fixed, pe, key, self._sd, self.steps,
                                                   state.proposal.chol, independence)
            on = self.adapt & (hs.i >= first_adapted) & (hs.i < num_warmup)
            proposal = adapt_proposal(state.proposal, jnp.stack([fixed[s] for s in self.sites]), sigma, on)
            return fixed, pe, accepted, proposal

        def sample_one(state: MetropolisNUTSState) -> MetropolisNUTSState:
            hs = state.hmc
            if delayed:
                key, k_mh, k_delayed = jax.random.split(hs.rng_key, 3)
            else:  # the key stream of runs without delayed acceptance is unchanged
                key, k_mh = jax.random.split(hs.rng_key)
            fixed, target, accepted, proposal = metropolis(state, k_mh)
            if self.sites:  # NUTS starts at the moved sites: its potential and gradient there
                pe, grad = jax.value_and_grad(self._conditional(fixed))(hs.z)
            else:  # nothing moved since NUTS's last state (delayed acceptance keeps them in step): they still hold
                pe, grad = hs.potential_energy, hs.z_grad
            new = sample_kernel(hs._replace(rng_key=key, potential_energy=pe, z_grad=grad), model_kwargs={"fixed": fixed})
            if not delayed:
                return MetropolisNUTSState(new, fixed, accepted, proposal)
            # D at the chain's point after the Metropolis steps (from their U + D where they ran, else the state's), and at
            # NUTS's proposal
            d_old = target - pe if self.sites else state.delayed_energy
            d_new = self._delayed({**new.z, **fixed})
            ok = jnp.isfinite(d_new) & (jnp.log(jax.random.uniform(k_delayed)) < d_old - d_new)
            keep = lambda a, b: jax.tree.map(lambda x, y: jnp.where(ok, x, y), a, b)  # noqa: E731
            new = new._replace(z=keep(new.z, hs.z), z_grad=keep(new.z_grad, grad),
                               potential_energy=jnp.where(ok, new.potential_energy, pe))
            outcome = jnp.where(ok, ACCEPTED, jnp.where(jnp.isposinf(d_new), REJECTED_OUTSIDE, REJECTED)).astype(jnp.int32)
            return MetropolisNUTSState(new, fixed, accepted, proposal, outcome, jnp.where(ok, d_new, d_old))

        batched = jnp.ndim(rng_key) > 1
        self._sample_fn = jax.vmap(sample_one) if batched else sample_one
        return jax.vmap(init_one)(rng_key, info) if batched else init_one(rng_key, info)

    def own_start(self, start: ParamInfo) -> ParamInfo:
        """A start of the posterior (its potential energy and gradient those of U + D, :func:`nuts_start`) as ``init``
        takes it: with delayed acceptance without them, which ``init`` then computes for U (NUTS's part)."""
        return ParamInfo(start.z, None, None) if self._delayed is not None else start

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
