"""Seeded procedural math problems with difficulty levels 1..3.

>>> import numpy as np
>>> from convenv.tasks.math import MathTaskGenerator
>>> task = MathTaskGenerator(families=["linear"], difficulty=1).sample(np.random.default_rng(0))
>>> task.id.startswith("math/linear/1/"), task.metadata["answer_kind"]
(True, 'number')

Families (``metadata["family"]``) and the canonical answer forms they produce:

- ``arithmetic``: integer expressions; answer ``"6"``.
- ``fractions``: rational expressions; answer ``"4/3"`` (or an integer).
- ``linear``: a linear equation in x; answer ``"6"`` or ``"-7/3"``.
- ``system``: a 2x2 linear system with an integer solution; answer ``"(2, -1)"`` meaning (x, y).
- ``quadratic``: the set of real roots; ``"{-2, 3}"``, ``"{3}"``, ``"{1/2, 3}"``, ``"{1 - sqrt(2), 1 + sqrt(2)}"``.
- ``expand``: expand and simplify; answer ``"x^2 + 5*x + 6"``.
- ``word``: short word problems; answer ``"42"`` or ``"37.5"``.
"""

from convenv.tasks.math.generator import FAMILIES, LEVELS, MathTaskGenerator, generate

__all__ = ["FAMILIES", "LEVELS", "MathTaskGenerator", "generate"]
