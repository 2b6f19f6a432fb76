"""Seeded puzzle generators: make 24 / countdown, word guessing, knights and knaves.

Each module has a ``generate(difficulty, rng)`` function and a task source class with ``sample(rng)``; task ids
are ``puzzles/{family}/{difficulty}/{12 hex digits}``, stable across processes.
"""
