"""Built-in envs. Registration only names entry points, so importing this module stays light."""

from __future__ import annotations

from convenv.registration import register

register(
    "MathTutor-v0",
    "convenv.envs.math_tutor:make_env",
    description="Math problems (arithmetic to quadratics, word problems) with a sympy-checked answer",
)
register(
    "MathTutor-Sharded-v0",
    "convenv.envs.sharded:make_math_sharded",
    description="Underspecified math problems: the facts come one per turn, best when the student asks",
)
register(
    "CodeTutor-v0",
    "convenv.envs.code_tutor:make_env",
    description="Write a Python function; hidden unit tests run in a bubblewrap sandbox",
)
register(
    "CodeTutor-Sharded-v0",
    "convenv.envs.code_tutor:make_sharded_env",
    description="Underspecified function-writing tasks: requirements come one per turn, best when asked",
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
register(
    "GuessNumber-v0",
    "convenv.envs.course:make_guess_number",
    description="Course env: guess a number with higher/lower feedback (learnable on a laptop CPU)",
)
register(
    "Arithmetic-v0",
    "convenv.envs.course:make_arithmetic",
    description="Course env: small sums over a tiny digits-and-symbols tokenizer (learnable on a laptop CPU)",
)
