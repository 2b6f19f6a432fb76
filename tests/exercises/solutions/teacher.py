"""Reference solution of exercise 1: '<' / '>' until the student shows it forgets, then bounds every turn.

The bounds are made of the student's own wrong guesses (or 0 and 32, just outside the range), so they tell it
nothing it has not earned and never contain the secret.
"""

import re

import numpy as np

from convenv.exercises.teacher import read_view


def number(text):
    found = re.findall(r"[0-9]+", text)
    return int(found[-1]) if found else None


class RemindingTeacher:
    role = "teacher"

    def __init__(self, env):
        self.tokenizer = env.tokenizer

    def reply(self, messages, info):
        task = info["task"]
        if info["turn"] == 0:
            return task.prompt
        secret = int(task.answer)
        first, last = (int(v) for v in task.prompt.split("-"))
        guesses = [number(text) for role, text in messages if role == "student"]
        if guesses[-1] is None:
            return "?"
        low, high, forgot = first - 1, last + 1, False
        for guess in guesses:  # the bounds the replies so far allow, and whether a guess fell outside them
            if guess is None:
                continue
            forgot = forgot or not low < guess < high
            if guess < secret:
                low = max(low, guess)
            else:
                high = min(high, guess)
        if forgot:
            return f"{low}<x<{high}"
        return "<" if guesses[-1] > secret else ">"

    def act(self, observations, infos):
        actions = []
        for obs, info in zip(observations, infos, strict=True):
            if info.get("to_act") != self.role:
                actions.append(None)
                continue
            text = self.reply(read_view(self.tokenizer, obs["tokens"]), info)
            actions.append(np.asarray(self.tokenizer.encode(text), dtype=np.int64))
        return actions


def make_teacher(env):
    return RemindingTeacher(env)
