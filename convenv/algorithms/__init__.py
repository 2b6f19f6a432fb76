"""Training algorithms: rollout collection, the PPO update and a PPO training loop.

GRPO/RLOO, filtered SFT and critique-prediction trainers are next. Modules import torch at their top, so import
them directly (``from convenv.algorithms.ppo import ppo_update``); importing this package stays light.
"""
