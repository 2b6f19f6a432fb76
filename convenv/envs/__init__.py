"""Built-in envs. Registration only names entry points, so importing this module stays light."""

from __future__ import annotations

from convenv.registration import register

register(
    "MathTutor-v0",
    "convenv.envs.math_tutor:make_env",
    description="Math problems (arithmetic to quadratics, word problems) with a sympy-checked answer",
)
register(
    "MazeTutor-v0",
    "convenv.envs.maze:make_env",
    description="Find a path through a grid maze; the teacher says where the path hits a wall",
)
register(
    "Make24-v0",
    "convenv.envs.puzzles.make24:make_env",
    description="Reach the target number with the given numbers and + - * / (countdown / make 24)",
)
register(
    "WordGuess-v0",
    "convenv.envs.puzzles.word_guess:make_env",
    description="Guess the hidden word; the teacher gives per-letter feedback",
)
register(
    "KnightsKnaves-v0",
    "convenv.envs.puzzles.knights:make_env",
    description="Who is a knight, who is a knave? Logic puzzles with exactly one solution",
)
