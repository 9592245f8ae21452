"""The sinusoidal neuron on a k-sparse parity: f(x) = sin(w . x)^2 on n-bit inputs, w a vector.

With w = pi/2 on the k secret bits and 0 elsewhere, w . x = (pi/2) (the number of secret bits
set), and sin^2 of it is 1 when that number is odd, 0 when it is even: f computes their parity
(the sinusoidal neuron of Barak et al. 2022; the seed's sin(w x)^2 is its one-input case).

Run it:  paritybench train --model docs/examples/sin_neuron.py:SinNeuron
The walk-through of every part is docs/models.md.
"""
import numpy as np

from impls.contract import Optim


class SinNeuron:
    """sin(w . x)^2 learns a k-sparse parity of n bits (MSE, SGD)."""

    name = "sin-neuron"
    parameters = {"n_bits": 10, "k": 3, "batch": 64}   # the defaults; each is an attribute: self.n_bits
    optim = Optim("sgd", lr=0.2)                        # torch.optim's and optax's with the same definitions
    eval_every = 25                                     # steps between held-out scores
    steps = 2000                                        # the training budget of `paritybench train`

    # ---- shared data: numpy, from the seed (and the step) only --------------------------------
    def secret(self, seed):
        return np.sort(np.random.default_rng([seed, 0]).choice(self.n_bits, self.k, replace=False))

    def draw(self, rng, size):
        x = rng.integers(0, 2, (size, self.n_bits)).astype(np.float64)    # bits in {0, 1}
        return x, x[:, self.secret_bits].sum(axis=1) % 2                   # y: their parity

    def batches(self, seed, start, k):
        """x (k, B, n) and y (k, B), float64: step t's batch from its own generator, so any split
        of the run into advances sees the same batches."""
        self.secret_bits = self.secret(seed)
        xs, ys = zip(*(self.draw(np.random.default_rng([seed, 2, t]), self.batch) for t in range(start, start + k)))
        return np.stack(xs), np.stack(ys)

    # ---- canonical initial parameters: float64, loaded by every backend -----------------------
    def init(self, seed):
        return {"w": np.random.default_rng([seed, 1]).uniform(0.0, 1.0, self.n_bits)}

    # ---- the loss, once per framework: mean over the batch of (sin(w . x)^2 - y)^2 -------------
    def loss_torch(self, params, x, y):
        import torch
        return ((torch.sin(x @ params["w"]) ** 2 - y) ** 2).mean()

    def loss_jax(self, params, x, y):
        import jax.numpy as jnp
        return jnp.mean((jnp.sin(x @ params["w"]) ** 2 - y) ** 2)

    def loss_numpy(self, params, x, y):
        """The float64 reference: loss and gradient written out.
        dL/dw = mean_b 2 (s_b^2 - y_b) 2 s_b cos z_b x_b = mean_b 2 (s_b^2 - y_b) sin(2 z_b) x_b."""
        z = x @ params["w"]
        r = np.sin(z) ** 2 - y
        return np.mean(r * r), {"w": (2 * r * np.sin(2 * z)) @ x / len(y)}

    # ---- solved: accuracy of f > 1/2 on held-out samples, in float64 --------------------------
    def evaluate(self, seed, params):
        self.secret_bits = self.secret(seed)
        x, y = self.draw(np.random.default_rng([seed, 3]), 2048)
        return float(np.mean((np.sin(x @ params["w"]) ** 2 > 0.5) == y))

    def solved(self, score):
        return score >= 0.99
