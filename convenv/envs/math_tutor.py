"""MathTutor-v0: procedurally generated (or locally loaded) math problems, sympy-checked answers.

The teacher knows the gold answer, the worked solution and the hints; after every attempt a teacher-only verifier
report says what the student's answer was read as and why it is wrong. The student sees only the dialogue.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from convenv.domain import Domain
from convenv.env import ConversationEnv
from convenv.envs.math_feedback import format_answer, make_feedback_policy, wrong_answer
from convenv.envs.policies import verifier_report
from convenv.leak import detect_leak, redact
from convenv.tasks.base import Task, TaskSource
from convenv.tasks.loaders import load_gsm8k_jsonl, load_math_jsonl
from convenv.tasks.math import MathTaskGenerator
from convenv.verifiers.math import MathVerifier

STUDENT_PROMPT = (
    "You are a student working through a math problem with your teacher. Reason briefly, then give your final "
    "answer as \\boxed{...}. If the teacher says you are wrong, use the feedback and try again. You may also "
    "ask the teacher a question."
)

TEACHER_PROMPT = """You are a patient math teacher. The student cannot see this message.
Problem: {prompt}
Correct answer (never state it, not even partly): {answer}
Worked solution (for you only): {solution}
Hints, from gentle to strong:
{hints}
After each attempt a verifier report tells you how the attempt was read. Reply with short feedback that helps \
the student find the mistake without revealing the answer."""

TASK_FORMATS = {"gsm8k": load_gsm8k_jsonl, "math": load_math_jsonl}


def teacher_prompt(task: Task) -> str:
    """The teacher's system prompt, carrying the privileged answer, solution and hints."""
    hints = "\n".join(f"- {h}" for h in task.hints) or "- (none)"
    return TEACHER_PROMPT.format(prompt=task.prompt, answer=task.answer, solution=task.solution, hints=hints)


def make_domain(
    *,
    families: Sequence[str] | None = None,
    difficulty: int | tuple[int, int] = (1, 3),
    teacher: str = "hints",
    tasks: TaskSource | None = None,
    tasks_file: str | None = None,
    tasks_format: str = "gsm8k",
    verifier_timeout: float = 2.0,
    verifier_memory_mb: int = 1024,
    marked_answers_only: bool = False,
) -> Domain:
    """The MathTutor domain; see :func:`make_env` for the arguments."""
    if tasks is None and tasks_file is not None:
        if tasks_format not in TASK_FORMATS:
            raise ValueError(
                f"expected tasks_format in {sorted(TASK_FORMATS)}, got {tasks_format!r}; "
                "use 'gsm8k' (question/answer '#### n') or 'math' (problem/solution with \\boxed{})"
            )
        tasks = TASK_FORMATS[tasks_format](tasks_file)
    if tasks is None:
        bounds = (difficulty, difficulty) if isinstance(difficulty, int) else tuple(difficulty)
        tasks = MathTaskGenerator(families=families, difficulty=bounds)
    return Domain(
        name="MathTutor",
        tasks=tasks,
        verifier=MathVerifier(
            timeout=verifier_timeout, memory_mb=verifier_memory_mb, marked_only=marked_answers_only
        ),
        feedback=make_feedback_policy(teacher),
        student_prompt=lambda task: STUDENT_PROMPT,
        teacher_prompt=teacher_prompt,
        leak_check=detect_leak,
        redact=redact,
        format_answer=format_answer,
        wrong_answer=wrong_answer,
        verifier_report=verifier_report,
    )


def make_env(
    *,
    families: Sequence[str] | None = None,
    difficulty: int | tuple[int, int] = (1, 3),
    teacher: str = "hints",
    tasks: TaskSource | None = None,
    tasks_file: str | None = None,
    tasks_format: str = "gsm8k",
    verifier_timeout: float = 2.0,
    verifier_memory_mb: int = 1024,
    marked_answers_only: bool = False,
    **env_kwargs: Any,
) -> ConversationEnv:
    r"""Build MathTutor (registered as ``MathTutor-v0``).

    Args:
        families: task families to draw from (default all): ``arithmetic``, ``fractions``, ``linear``,
            ``system``, ``quadratic``, ``expand``, ``word``.
        difficulty: one level (1..3) or an inclusive ``(low, high)`` range.
        teacher: the default scripted teacher: ``"verdict"``, ``"direction"``, ``"locate"`` or ``"hints"``.
        tasks: a task source to use instead of the generators.
        tasks_file: a local JSONL file of problems (no downloads), read with ``tasks_format``.
        tasks_format: ``"gsm8k"`` (``question``, ``answer`` ending ``#### n``) or ``"math"``
            (``problem``, ``solution`` with ``\boxed{}``).
        verifier_timeout: hard deadline, in seconds, of one answer check (the worker is killed past it).
        verifier_memory_mb: address-space cap of the verifier's worker process.
        marked_answers_only: only ``\boxed{}`` / "answer: ..." count as answers; by default ``x = ...`` and the
            last expression in the message are read too (which a random policy can hit by chance).
        **env_kwargs: passed to :class:`~convenv.env.ConversationEnv` (``max_turns``, ``gamma``,
            ``tokenizer``, ``render_mode``, ``leak_policy``, ...).

    """
    domain = make_domain(
        families=families,
        difficulty=difficulty,
        teacher=teacher,
        tasks=tasks,
        tasks_file=tasks_file,
        tasks_format=tasks_format,
        verifier_timeout=verifier_timeout,
        verifier_memory_mb=verifier_memory_mb,
        marked_answers_only=marked_answers_only,
    )
    env_kwargs.setdefault("env_id", "MathTutor-v0")
    return ConversationEnv(domain, **env_kwargs)
