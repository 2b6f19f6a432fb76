"""Training algorithms (rollout collection, PPO, GRPO/RLOO, filtered SFT, critique prediction).

Nothing is implemented here yet: the trainers arrive with the algorithms issue. Importing this package stays
light; trainers will load torch lazily and name the ``train`` extra when it is missing.
"""
