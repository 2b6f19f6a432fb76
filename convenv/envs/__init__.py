"""Built-in envs. Registration only names entry points, so importing this module stays light."""

from __future__ import annotations

from convenv.registration import register

register(
    "MathTutor-v0",
    "convenv.envs.math_tutor:make_env",
    description="Math problems (arithmetic to quadratics, word problems) with a sympy-checked answer",
)
