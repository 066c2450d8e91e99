"""Our re-implementations of three Surprise algorithms: SVD, BaselineOnly, NormalPredictor.

Written from Surprise's documentation (the algorithms' docstrings and ``doc/source``) and the
papers it cites, not from its code:

* Koren, "Factor in the neighbors: scalable and accurate collaborative filtering",
  ACM TKDD 4(1), 2010, section 2.1: baseline estimates ``b_ui = mu + b_u + b_i`` fitted by
  alternating regularised least squares (``BaselineOnly``).
* Funk, "Netflix Update: Try This at Home" (2006) and Koren, Bell & Volinsky, "Matrix
  factorization techniques for recommender systems", IEEE Computer 2009, eq. (5): biased
  matrix factorisation ``r_ui = mu + b_u + b_i + q_i . p_u`` trained by stochastic gradient
  descent (``SVD``).
* ``NormalPredictor``: a rating drawn from the normal distribution whose mean and standard
  deviation are the maximum-likelihood estimates on the training ratings.

Every model works on integer-coded users and items (``0 .. n-1``, see :mod:`ratings`), is
fitted with :meth:`fit` and predicts arrays with :meth:`predict`. As in Surprise, a user or
item without training ratings has zero bias and zero factors, and every prediction is clipped
to the rating scale. Randomness comes only from ``random_state`` through
``numpy.random.default_rng``: the same seed gives bit-identical predictions.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

try:
    from numba import njit
except ImportError:  # numba makes SVD fast; without it the same loop runs in plain Python.
    def njit(*_args, **_kwargs):
        return lambda function: function


# --------------------------------------------------------------------------- shared parts
class RatingModel:
    """What every model shares: the training mean, who is known, and clipping.

    Subclasses implement ``_fit`` and ``_estimate`` on coded users and items.
    """

    def fit(
        self,
        users: np.ndarray,
        items: np.ndarray,
        values: np.ndarray,
        *,
        n_users: int,
        n_items: int,
        scale: tuple[float, float] = (1.0, 5.0),
    ) -> RatingModel:
        """Fit on training ratings ``values[k]`` given by user ``users[k]`` to ``items[k]``.

        ``n_users`` and ``n_items`` size the parameter tables; codes without a training
        rating stay unknown.
        """
        users, items = np.asarray(users, np.int64), np.asarray(items, np.int64)
        values = np.asarray(values, np.float64)
        self.scale = (float(scale[0]), float(scale[1]))
        self.global_mean = float(np.mean(values))
        self.user_counts = np.bincount(users, minlength=n_users)
        self.item_counts = np.bincount(items, minlength=n_items)
        self._fit(users, items, values)
        return self

    def predict(self, users: np.ndarray, items: np.ndarray) -> np.ndarray:
        """Predicted ratings for the pairs ``(users[k], items[k])``, clipped to the scale."""
        users, items = np.asarray(users, np.int64), np.asarray(items, np.int64)
        estimates = self._estimate(users, items)
        return np.clip(estimates, self.scale[0], self.scale[1])

    def known(self, codes: np.ndarray, counts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """A mask of codes seen in training, and the codes made safe to index with."""
        in_range = (codes >= 0) & (codes < len(counts))
        safe = np.where(in_range, codes, 0)
        return in_range & (counts[safe] > 0), safe

    def _fit(self, users: np.ndarray, items: np.ndarray, values: np.ndarray) -> None:
        raise NotImplementedError

    def _estimate(self, users: np.ndarray, items: np.ndarray) -> np.ndarray:
        raise NotImplementedError


# --------------------------------------------------------------------------- NormalPredictor
class NormalPredictor(RatingModel):
    """A random rating from ``N(mu, sigma^2)``, both estimated by maximum likelihood.

    ``sigma`` divides by the number of training ratings (the ML estimate, not ``n - 1``).
    The generator is created at :meth:`fit` from ``random_state``; successive
    :meth:`predict` calls continue its stream.
    """

    def __init__(self, random_state: int = 0) -> None:
        self.random_state = random_state

    def _fit(self, users: np.ndarray, items: np.ndarray, values: np.ndarray) -> None:
        self.sigma = float(np.sqrt(np.mean((values - self.global_mean) ** 2)))
        self._rng = np.random.default_rng(self.random_state)

    def _estimate(self, users: np.ndarray, items: np.ndarray) -> np.ndarray:
        return self._rng.normal(self.global_mean, self.sigma, size=len(users))


# --------------------------------------------------------------------------- BaselineOnly
@dataclass(frozen=True)
class BaselineConfig:
    """ALS options with Surprise's documented defaults (``bsl_options`` for ``'als'``)."""

    n_epochs: int = 10    # Koren (2010) describes a single pass; Surprise repeats it 10 times
    reg_i: float = 10.0   # lambda_2 in Koren (2010), eq. (3)
    reg_u: float = 15.0   # lambda_3 in Koren (2010), eq. (3)


class BaselineOnly(RatingModel):
    """``r_ui = mu + b_u + b_i``, baselines fitted by alternating least squares.

    Koren (2010), section 2.1: starting from zero biases, each pass sets every item bias to
    the shrunk mean of its residuals given the user biases, then every user bias to the
    shrunk mean of its residuals given the new item biases::

        b_i = sum_{u in R(i)} (r_ui - mu - b_u) / (reg_i + |R(i)|)
        b_u = sum_{i in R(u)} (r_ui - mu - b_i) / (reg_u + |R(u)|)

    Each step solves its least-squares problem exactly, so the fit is deterministic.
    """

    def __init__(self, n_epochs: int = 10, reg_i: float = 10.0, reg_u: float = 15.0) -> None:
        self.config = BaselineConfig(n_epochs=n_epochs, reg_i=reg_i, reg_u=reg_u)

    def _fit(self, users: np.ndarray, items: np.ndarray, values: np.ndarray) -> None:
        self.bu, self.bi = als_baselines(
            users, items, values, self.global_mean, self.user_counts, self.item_counts,
            self.config,
        )

    def _estimate(self, users: np.ndarray, items: np.ndarray) -> np.ndarray:
        return baseline_estimates(self, users, items)


def als_baselines(
    users: np.ndarray,
    items: np.ndarray,
    values: np.ndarray,
    mean: float,
    user_counts: np.ndarray,
    item_counts: np.ndarray,
    config: BaselineConfig,
) -> tuple[np.ndarray, np.ndarray]:
    """User and item biases by ``config.n_epochs`` passes of alternating least squares."""
    bu = np.zeros(len(user_counts))
    bi = np.zeros(len(item_counts))
    centred = values - mean
    for _ in range(config.n_epochs):
        item_sums = np.bincount(items, weights=centred - bu[users], minlength=len(bi))
        bi = item_sums / (config.reg_i + item_counts)
        user_sums = np.bincount(users, weights=centred - bi[items], minlength=len(bu))
        bu = user_sums / (config.reg_u + user_counts)
    return bu, bi


def baseline_estimates(model: RatingModel, users: np.ndarray, items: np.ndarray) -> np.ndarray:
    """``mu + b_u + b_i`` with the bias of an unknown user or item taken as zero."""
    known_user, user = model.known(users, model.user_counts)
    known_item, item = model.known(items, model.item_counts)
    return (model.global_mean + np.where(known_user, model.bu[user], 0.0)
            + np.where(known_item, model.bi[item], 0.0))


# --------------------------------------------------------------------------- SVD
@dataclass(frozen=True)
class SVDConfig:
    """Hyperparameters with Surprise's documented defaults (the ``SVD`` docstring)."""

    n_factors: int = 100
    n_epochs: int = 20
    biased: bool = True
    init_mean: float = 0.0
    init_std_dev: float = 0.1
    lr_bu: float = 0.005
    lr_bi: float = 0.005
    lr_pu: float = 0.005
    lr_qi: float = 0.005
    reg_bu: float = 0.02
    reg_bi: float = 0.02
    reg_pu: float = 0.02
    reg_qi: float = 0.02


class SVD(RatingModel):
    """Biased matrix factorisation, ``r_ui = mu + b_u + b_i + q_i . p_u``, trained by SGD.

    Koren, Bell & Volinsky (2009), eq. (5); Funk (2006). Biases start at zero, factors are
    drawn from ``N(init_mean, init_std_dev^2)``. For each training rating in turn, with
    ``e = r_ui - r^_ui``::

        b_u <- b_u + lr_bu (e - reg_bu b_u)        p_u <- p_u + lr_pu (e q_i - reg_pu p_u)
        b_i <- b_i + lr_bi (e - reg_bi b_i)        q_i <- q_i + lr_qi (e p_u - reg_qi q_i)

    where ``p_u`` and ``q_i`` are updated from each other's values before the step. A pass
    visits the ratings in the order given to :meth:`fit` (under k-fold CV, the shuffled order
    of the fold); ``n_epochs`` passes are made. With ``biased=False`` the model is
    ``q_i . p_u`` alone (probabilistic matrix factorisation).

    Deviation: the documentation does not say in which order a pass visits the ratings;
    Surprise's trainset yields them user by user. On ML-100k (5 folds, seed 0) visiting them
    user by user instead of in fold order moved our mean RMSE by 0.0002 (0.9360 vs 0.9362),
    well inside the spread over initialisation seeds (about 0.001).

    Parameters
    ----------
    random_state : int
        Seed of ``numpy.random.default_rng`` for the factors' initialisation.
    lr_all, reg_all : float
        Learning rate and regularisation of every parameter, unless a specific one
        (``lr_bu``, ``reg_qi``, ...) is given.
    """

    def __init__(
        self,
        n_factors: int = 100,
        n_epochs: int = 20,
        biased: bool = True,
        init_mean: float = 0.0,
        init_std_dev: float = 0.1,
        lr_all: float = 0.005,
        reg_all: float = 0.02,
        random_state: int = 0,
        **specific: float,
    ) -> None:
        unknown = set(specific) - {f"{kind}_{part}" for kind in ("lr", "reg")
                                   for part in ("bu", "bi", "pu", "qi")}
        if unknown:
            raise TypeError(f"SVD got unexpected keyword arguments {sorted(unknown)}")
        rates = {f"lr_{p}": specific.get(f"lr_{p}", lr_all) for p in ("bu", "bi", "pu", "qi")}
        regs = {f"reg_{p}": specific.get(f"reg_{p}", reg_all) for p in ("bu", "bi", "pu", "qi")}
        self.config = SVDConfig(n_factors=n_factors, n_epochs=n_epochs, biased=biased,
                                init_mean=init_mean, init_std_dev=init_std_dev, **rates, **regs)
        self.random_state = random_state

    def _fit(self, users: np.ndarray, items: np.ndarray, values: np.ndarray) -> None:
        c = self.config
        rng = np.random.default_rng(self.random_state)
        n_users, n_items = len(self.user_counts), len(self.item_counts)
        self.pu = rng.normal(c.init_mean, c.init_std_dev, (n_users, c.n_factors))  # (U, F)
        self.qi = rng.normal(c.init_mean, c.init_std_dev, (n_items, c.n_factors))  # (I, F)
        self.bu = np.zeros(n_users)
        self.bi = np.zeros(n_items)
        mean = self.global_mean if c.biased else 0.0
        sgd_epochs(users, items, values, mean, self.bu, self.bi, self.pu, self.qi,
                   c.n_epochs, c.biased, c.lr_bu, c.lr_bi, c.lr_pu, c.lr_qi,
                   c.reg_bu, c.reg_bi, c.reg_pu, c.reg_qi)

    def _estimate(self, users: np.ndarray, items: np.ndarray) -> np.ndarray:
        known_user, user = self.known(users, self.user_counts)
        known_item, item = self.known(items, self.item_counts)
        both = known_user & known_item
        dots = np.einsum("kf,kf->k", self.pu[user], self.qi[item])  # (K,)
        factors = np.where(both, dots, 0.0)
        if not self.config.biased:
            return factors
        return baseline_estimates(self, users, items) + factors


@njit(cache=True, nogil=True)
def sgd_epochs(users, items, values, mean, bu, bi, pu, qi, n_epochs, biased,
               lr_bu, lr_bi, lr_pu, lr_qi, reg_bu, reg_bi, reg_pu, reg_qi):  # pragma: no cover
    """Run ``n_epochs`` SGD passes over the ratings in order, updating the arrays in place.

    Sequential by nature (each step reads what the previous one wrote), so it is compiled
    with numba rather than vectorised. No fast-math: the float operations keep their order,
    and the same inputs give bit-identical outputs.
    """
    n_factors = pu.shape[1]
    for _ in range(n_epochs):
        for k in range(values.shape[0]):
            u = users[k]
            i = items[k]
            dot = 0.0
            for f in range(n_factors):
                dot += qi[i, f] * pu[u, f]
            if biased:
                err = values[k] - (mean + bu[u] + bi[i] + dot)
                bu[u] += lr_bu * (err - reg_bu * bu[u])
                bi[i] += lr_bi * (err - reg_bi * bi[i])
            else:
                err = values[k] - dot
            for f in range(n_factors):
                puf = pu[u, f]
                qif = qi[i, f]
                pu[u, f] += lr_pu * (err * qif - reg_pu * puf)
                qi[i, f] += lr_qi * (err * puf - reg_qi * qif)


#: Our models by the name Surprise gives the algorithm.
MODELS = {"SVD": SVD, "BaselineOnly": BaselineOnly, "NormalPredictor": NormalPredictor}
