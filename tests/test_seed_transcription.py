"""The torch eager variant IS the seed's loop: bit for bit, every step's weight and loss.

Below is a literal transcription of the seed's training code (seed/question-original-zh.txt):
Net with fc1 = Linear(1, 1, bias=False) filled with 1.5, forward sin(x)**2, MSELoss, SGD lr 0.0004,
100 epochs, float32 tensors of shape (-1, 1), on the seed's data (n = 1000 from [0, 1000)).
"""
from __future__ import annotations

import numpy as np
import pytest

import impls
from impls import Problem, Recipe

from conftest import require


def seed_loop(x_int: np.ndarray, epochs: int = 100):
    """The seed's code, transcribed; returns (w before each epoch + final, loss of each + final)."""
    import torch

    train_x, train_y = x_int.astype(float), (x_int % 2).astype(float)
    train_x = torch.tensor(train_x, dtype=torch.float32).reshape(-1, 1)
    train_y = torch.tensor(train_y, dtype=torch.float32).reshape(-1, 1)

    class Net(torch.nn.Module):
        def __init__(self):
            super().__init__()
            # linear without bias
            self.fc1 = torch.nn.Linear(1, 1, bias=False)
            # Initialize close to the theoretical solution
            with torch.no_grad():
                self.fc1.weight.data.fill_(1.5)  # Close to π/2 ≈ 1.57

        def forward(self, x):
            x = self.fc1(x)
            return torch.sin(x)**2

    net = Net()
    criterion = torch.nn.MSELoss()
    optimizer = torch.optim.SGD(net.parameters(), lr=0.0004)

    weights, losses = [], []
    for epoch in range(epochs):
        net.train()
        weights.append(net.fc1.weight.item())  # recorded before the step, as Trajectory does

        optimizer.zero_grad()
        output = net(train_x)

        loss = criterion(output, train_y)
        losses.append(loss.item())
        loss.backward()
        optimizer.step()
    weights.append(net.fc1.weight.item())
    with torch.no_grad():
        losses.append(criterion(net(train_x), train_y).item())
    return np.array(weights), np.array(losses)


def test_torch_eager_is_the_seed_bit_for_bit(seed_data):
    require("torch")
    assert seed_data.n == 1000 and seed_data.x.max() < 1000
    w_seed, loss_seed = seed_loop(seed_data.x)
    traj = impls.train("torch", seed_data, Recipe(), "eager")  # defaults: the seed's recipe
    assert traj.w.shape == (101, 1)
    np.testing.assert_array_equal(traj.w[:, 0], w_seed)        # bit for bit, every step
    np.testing.assert_array_equal(traj.loss[:, 0], loss_seed)
    assert len(np.unique(w_seed)) > 90  # the weight really moves every step (a non-trivial check)


def test_seed_data_is_the_seed_generator(seed_data):
    """np.random.seed(0); np.random.randint(0, 1000, 1000): the seed's draw, as data.generate makes it."""
    rng = np.random.RandomState(0)
    x = rng.randint(0, 1000, 1000)
    np.testing.assert_array_equal(seed_data.x, x)
    np.testing.assert_array_equal(seed_data.y, (x % 2).astype(float))
    train, val = impls.generate_with_validation(Problem())
    np.testing.assert_array_equal(train.x, x)
    np.testing.assert_array_equal(val.x, rng.randint(0, 1000, 1000))  # the next draw
