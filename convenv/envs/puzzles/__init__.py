"""Puzzle envs: ``Make24-v0``, ``WordGuess-v0``, ``KnightsKnaves-v0`` (registered in :mod:`convenv.envs`)."""
