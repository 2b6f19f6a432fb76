"""Training algorithms for conversation envs.

- :mod:`~convenv.algorithms.rollout`: play a batch of episodes and score them in one forward pass;
- :mod:`~convenv.algorithms.functional`: the pure maths (GAE over sampled tokens, masked whitening, losses);
- updates: :mod:`~convenv.algorithms.ppo`, :mod:`~convenv.algorithms.grpo` (GRPO/RLOO),
  :mod:`~convenv.algorithms.sft` (filtered SFT), :mod:`~convenv.algorithms.qpriming`,
  :mod:`~convenv.algorithms.critique` (critique prediction);
- the loop: :mod:`~convenv.algorithms.train` (collect → update → evaluate → log → checkpoint), with
  :mod:`~convenv.algorithms.checkpoint` (atomic, resumable), :mod:`~convenv.algorithms.logger` (CSV, TensorBoard,
  progress), :mod:`~convenv.algorithms.lora` (peft adapters) and :mod:`~convenv.algorithms.distributed`
  (data parallelism under ``torchrun``). The ``convenv train`` command (:mod:`convenv.cli_train`) drives it.

Modules import torch at their top, so import them directly (``from convenv.algorithms.train import train``);
importing this package stays light.
"""
