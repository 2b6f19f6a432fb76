"""Seeded procedural function-writing problems with difficulty levels 1..3, and HumanEval/MBPP loaders.

>>> import numpy as np
>>> from convenv.tasks.code import CodeTaskGenerator
>>> task = CodeTaskGenerator(families=["list"], difficulty=1).sample(np.random.default_rng(0))
>>> task.id.startswith("code/list/1/"), task.metadata["entry_point"] in task.prompt
(True, True)

Families (``metadata["family"]``), each with three problem templates per level:

- ``list``: filter / map / count (1); rotate, running maximum, de-duplicate (2); increasing runs, chunk sums,
  interval merging (3).
- ``string``: letter counts, initials, shouting (1); Caesar shift, run-length encoding, palindromes (2); most
  frequent word, bracket balance, title case (3).
- ``number``: digit sum, clamp, FizzBuzz (1); primality, Collatz steps, gcd (2); base conversion, Roman
  numerals, next palindrome (3).
- ``dict``: invert, character counts, lookup with default (1); merge counts, top scorer, group by first letter
  (2); flatten nested dicts, dotted-path lookup, tag index (3).

Each task's ``prompt`` is the signature with a docstring (spec and two examples); ``answer`` is the reference
source; ``tests`` are hidden :class:`~convenv.sandbox.TestCase` s whose expected values come from a trusted Python
implementation of the reference; ``metadata`` has ``family``, ``difficulty``, ``entry_point``, ``signature`` and
``wrong_solutions`` (buggy variants known to fail a test). :class:`ShardedCodeTaskGenerator` makes the
underspecified tasks of ``CodeTutor-Sharded-v0``.
"""

from convenv.tasks.code.common import FAMILY_NAMES, LEVELS
from convenv.tasks.code.generator import FAMILIES, CodeTaskGenerator, generate
from convenv.tasks.code.loaders import load_humaneval_jsonl, load_mbpp_jsonl
from convenv.tasks.code.sharded import ShardedCodeTaskGenerator

__all__ = [
    "FAMILIES",
    "FAMILY_NAMES",
    "LEVELS",
    "CodeTaskGenerator",
    "ShardedCodeTaskGenerator",
    "generate",
    "load_humaneval_jsonl",
    "load_mbpp_jsonl",
]
