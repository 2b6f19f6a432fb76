"""Adapters for third-party trainers. Each submodule loads its library lazily; ``import convenv`` loads none.

- :mod:`convenv.integrations.trl`: a multi-turn ``rollout_func`` for TRL's ``GRPOTrainer``.
"""
