"""Exercise 1 starter: a teacher for GuessNumber-v0 (docs/course/1_teacher.md).

Run it to see one dialogue with each student; grade it with:  convenv exercise check 1 my_teacher.py
"""

import re

import numpy as np

import convenv
from convenv.exercises.teacher import ENV_ID, ENV_KWARGS, read_view, students


def number(text):
    """The last number in a message, or None."""
    found = re.findall(r"[0-9]+", text)
    return int(found[-1]) if found else None


class MyTeacher:
    """A teacher agent: it reads its own view (the student's guesses) and the secret, and replies."""

    role = "teacher"

    def __init__(self, env):
        self.tokenizer = env.tokenizer

    def reply(self, messages, info):
        """The next message, from the teacher's view as (role, text) pairs and the teacher's info."""
        task = info["task"]  # privileged: task.answer is the secret, task.prompt the range ("1-31")
        if info["turn"] == 0:
            return task.prompt  # the opening
        guesses = [number(text) for role, text in messages if role == "student"]
        if guesses[-1] is None:
            return "?"
        # TODO: this helps the bisection student only. Notice when a student forgets, and help it too.
        return "<" if guesses[-1] > int(task.answer) else ">"

    def act(self, observations, infos):
        """One message (token ids) per conversation where the teacher is to speak, None elsewhere."""
        actions = []
        for obs, info in zip(observations, infos, strict=True):
            if info.get("to_act") != self.role:
                actions.append(None)
                continue
            text = self.reply(read_view(self.tokenizer, obs["tokens"]), info)
            actions.append(np.asarray(self.tokenizer.encode(text), dtype=np.int64))
        return actions


def make_teacher(env):
    """What the checker calls: your teacher for this env."""
    return MyTeacher(env)


if __name__ == "__main__":
    from convenv.play import play_episode

    env = convenv.make(ENV_ID, **ENV_KWARGS, render_mode="ansi")
    for name, student in students(env).items():
        play_episode(env, {"teacher": make_teacher(env), "student": student}, seed=6)
        print(f"--- {name}\n{env.render()}")
    env.close()
