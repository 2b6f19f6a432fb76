"""CodeTutor-v0 and CodeTutor-Sharded-v0: write a Python function; hidden unit tests run in a sandbox.

The teacher knows the reference solution, the hints and, after every attempt, a teacher-only test report (which
test failed, with what input, what came back and what was expected). The student sees only the dialogue and
answers with the whole function in a ```python block. Student code runs only inside
:class:`~convenv.sandbox.Sandbox` (bubblewrap); without bubblewrap, building the env raises unless
``unsafe_no_isolation=True``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from convenv.domain import Domain
from convenv.env import ConversationEnv
from convenv.envs.code_feedback import code_leak_check, format_answer, make_feedback_policy, redact, wrong_answer
from convenv.sandbox import Limits
from convenv.tasks.base import Task, TaskSource
from convenv.tasks.code import CodeTaskGenerator, ShardedCodeTaskGenerator, load_humaneval_jsonl, load_mbpp_jsonl
from convenv.turns import classify_turn
from convenv.verifiers.base import Verdict
from convenv.verifiers.code import CodeVerifier

__all__ = ["make_domain", "make_env", "make_sharded_env", "teacher_prompt", "verifier_report"]

MAX_UTTERANCE_TOKENS = 2048  # a function in bytes, with room for a sentence around it
DEFAULT_LIMITS = Limits(wall_s=4.0, per_test_s=0.5)
"""Sandbox limits of one attempt unless ``sandbox_limits`` is given: the generated tests take microseconds, so
half a second per call is generous, and a function looping forever costs half a second per test, four at most."""

STUDENT_PROMPT = (
    "You are a student learning to program, working with your teacher. Write the Python function the teacher "
    "asks for and reply with the complete function, signature included, in one ```python code block. Hidden "
    "tests check it. If the teacher says it is wrong, use the feedback, fix the code and send the whole function "
    "again. You may also ask the teacher a question."
)

TEACHER_PROMPT = """You are a patient programming teacher. The student cannot see this message.
Task: {prompt}
Reference solution (never show it, nor any line of it):
{answer}
Hints, from gentle to strong:
{hints}
After each attempt a test report tells you which hidden test failed, with its input, what the student's \
function returned and what was expected. Help the student find the bug: you may name the failing input and \
what the function did, but never state the expected output of a hidden test or write the solution."""

SHARDED_STUDENT_PROMPT = (
    "You are a student learning to program, working with your teacher. The teacher's first description of the "
    "function leaves some requirements out. Ask the teacher one question at a time about anything unclear (empty "
    "inputs, special values, ordering, ...); the teacher reveals one requirement per turn. When you know every "
    "requirement, reply with the complete function in one ```python code block; hidden tests check all of them."
)

SHARDED_TEACHER_PROMPT = """You are a patient programming teacher. The student cannot see this message.
The full task: {full}
The student was only told: {prompt}
The missing requirements; reveal at most one per turn, word for word, the one the student asks about first:
{shards}
Reference solution (never show it, nor any line of it):
{answer}
Hints:
{hints}
After each attempt a test report tells you which hidden test failed; never state a hidden test's expected \
output."""

TASK_FORMATS = {"humaneval": load_humaneval_jsonl, "mbpp": load_mbpp_jsonl}


def _hints(task: Task) -> str:
    return "\n".join(f"- {h}" for h in task.hints) or "- (none)"


def teacher_prompt(task: Task) -> str:
    """The teacher's system prompt, carrying the privileged reference solution and hints."""
    return TEACHER_PROMPT.format(prompt=task.prompt, answer=task.answer.rstrip(), hints=_hints(task))


def sharded_teacher_prompt(task: Task) -> str:
    """The sharded teacher's system prompt: the full task, the shards, the solution and the hints."""
    return SHARDED_TEACHER_PROMPT.format(
        full=task.metadata.get("full_prompt", task.prompt),
        prompt=task.prompt,
        shards="\n".join(f"{i + 1}. {s}" for i, s in enumerate(task.shards)),
        answer=task.answer.rstrip(),
        hints=_hints(task),
    )


def verifier_report(verdict: Verdict) -> str:
    """The teacher-only test report appended after each attempt (privileged: it shows an expected value)."""
    if verdict.correct:
        return f"[tests] correct: {verdict.extracted}."
    return f"[tests] wrong ({verdict.error}): {verdict.detail}"


def _task_source(
    tasks: TaskSource | None, tasks_file: str | None, tasks_format: str, default: Callable[[], TaskSource]
) -> TaskSource:
    if tasks is not None:
        return tasks
    if tasks_file is not None:
        if tasks_format not in TASK_FORMATS:
            raise ValueError(
                f"expected tasks_format in {sorted(TASK_FORMATS)}, got {tasks_format!r}; use 'humaneval' (prompt, "
                "canonical_solution, test with check(candidate), entry_point) or 'mbpp' (text, code, test_list)"
            )
        return TASK_FORMATS[tasks_format](tasks_file)
    return default()


def make_domain(
    *,
    families: Sequence[str] | None = None,
    difficulty: int | tuple[int, int] = (1, 3),
    teacher: str = "locate",
    tasks: TaskSource | None = None,
    tasks_file: str | None = None,
    tasks_format: str = "humaneval",
    sandbox_limits: Limits | None = None,
    unsafe_no_isolation: bool = False,
) -> Domain:
    """The CodeTutor domain; see :func:`make_env` for the arguments."""
    policy = make_feedback_policy(teacher)  # a bad name fails before the sandbox is probed
    source = _task_source(
        tasks, tasks_file, tasks_format, lambda: CodeTaskGenerator(families=families, difficulty=difficulty)
    )
    return Domain(
        name="CodeTutor",
        tasks=source,
        verifier=CodeVerifier(sandbox_limits or DEFAULT_LIMITS, unsafe_no_isolation=unsafe_no_isolation),
        feedback=policy,
        student_prompt=lambda task: STUDENT_PROMPT,
        teacher_prompt=teacher_prompt,
        leak_check=code_leak_check,
        redact=redact,
        format_answer=format_answer,
        wrong_answer=wrong_answer,
        verifier_report=verifier_report,
        description="Write a Python function; hidden unit tests run in a bubblewrap sandbox",
    )


def make_env(
    *,
    families: Sequence[str] | None = None,
    difficulty: int | tuple[int, int] = (1, 3),
    teacher: str = "locate",
    tasks: TaskSource | None = None,
    tasks_file: str | None = None,
    tasks_format: str = "humaneval",
    sandbox_limits: Limits | None = None,
    unsafe_no_isolation: bool = False,
    **env_kwargs: Any,
) -> ConversationEnv:
    """Build CodeTutor (registered as ``CodeTutor-v0``).

    Args:
        families: task families to draw from (default all): ``list``, ``string``, ``number``, ``dict``.
        difficulty: one level (1..3) or an inclusive ``(low, high)`` range.
        teacher: the default scripted teacher: ``"verdict"``, ``"direction"``, ``"locate"`` or ``"hints"``.
        tasks: a task source to use instead of the generators (its tasks need ``tests`` and an ``entry_point``).
        tasks_file: a local JSONL file of problems (no downloads), read with ``tasks_format``.
        tasks_format: ``"humaneval"`` or ``"mbpp"``.
        sandbox_limits: :class:`~convenv.sandbox.Limits` of one attempt (wall clock, CPU, memory, ...); default
            :data:`DEFAULT_LIMITS` (4 s in all, 0.5 s per test call, 256 MiB).
        unsafe_no_isolation: run student code without bubblewrap (rlimits and the kill only). Only for machines
            where you accept that the student's code can read your files and use the network.
        **env_kwargs: passed to :class:`~convenv.env.ConversationEnv` (``max_turns``, ``gamma``, ``tokenizer``,
            ``render_mode``, ``leak_policy``, ...); ``max_utterance_tokens`` defaults to 2048.

    Raises:
        SandboxUnavailable: bubblewrap is missing or does not work here and ``unsafe_no_isolation`` is False.
    """
    domain = make_domain(
        families=families,
        difficulty=difficulty,
        teacher=teacher,
        tasks=tasks,
        tasks_file=tasks_file,
        tasks_format=tasks_format,
        sandbox_limits=sandbox_limits,
        unsafe_no_isolation=unsafe_no_isolation,
    )
    env_kwargs.setdefault("env_id", "CodeTutor-v0")
    env_kwargs.setdefault("max_utterance_tokens", MAX_UTTERANCE_TOKENS)
    return ConversationEnv(domain, **env_kwargs)


def make_sharded_env(
    *,
    families: Sequence[str] | None = None,
    difficulty: int | tuple[int, int] = (1, 3),
    teacher: str = "locate",
    tasks: TaskSource | None = None,
    classifier: Callable[[str, Task], str] = classify_turn,
    sandbox_limits: Limits | None = None,
    unsafe_no_isolation: bool = False,
    **env_kwargs: Any,
) -> ConversationEnv:
    """Build CodeTutor-Sharded (registered as ``CodeTutor-Sharded-v0``): requirements come one per turn.

    The first teacher message states the function with some requirements left out ("Return the total of the
    numbers in xs."); each hidden requirement ("Ignore negative numbers.") is a shard that a hidden test
    exercises. The default teacher is :class:`~convenv.envs.sharded.ShardedTeacher` around a code policy: it
    reveals at most one shard per turn, the one the student asks about when it asks.

    Args:
        families: families to draw from (default all): ``list``, ``string``, ``number``, ``dict``.
        difficulty: how many requirements are hidden (1..3), or an inclusive ``(low, high)`` range.
        teacher: the base policy inside the sharded teacher: ``"verdict"``, ``"direction"``, ``"locate"``
            (default) or ``"hints"``.
        tasks: a task source with shards to use instead of
            :class:`~convenv.tasks.code.ShardedCodeTaskGenerator`.
        classifier: ``(student_text, task) -> "attempt" | "question" | "other"``; only attempts are verified.
        sandbox_limits: :class:`~convenv.sandbox.Limits` of one attempt (default :data:`DEFAULT_LIMITS`).
        unsafe_no_isolation: run student code without bubblewrap (see :func:`make_env`).
        **env_kwargs: passed to :class:`~convenv.env.ConversationEnv`; ``max_turns`` defaults to 6 (enough to
            ask for three requirements and still answer twice), ``max_utterance_tokens`` to 2048.

    Raises:
        SandboxUnavailable: bubblewrap is missing or does not work here and ``unsafe_no_isolation`` is False.
    """
    from convenv.envs.sharded import ShardedTeacher

    policy = ShardedTeacher(make_feedback_policy(teacher))
    source = tasks if tasks is not None else ShardedCodeTaskGenerator(families=families, difficulty=difficulty)
    domain = Domain(
        name="CodeTutor-Sharded",
        tasks=source,
        verifier=CodeVerifier(sandbox_limits or DEFAULT_LIMITS, unsafe_no_isolation=unsafe_no_isolation),
        feedback=policy,
        student_prompt=lambda task: SHARDED_STUDENT_PROMPT,
        teacher_prompt=sharded_teacher_prompt,
        leak_check=code_leak_check,
        redact=redact,
        format_answer=format_answer,
        wrong_answer=wrong_answer,
        verifier_report=verifier_report,
        classify=classifier,
        description="Underspecified function-writing tasks: requirements come one per turn, best when asked",
    )
    env_kwargs.setdefault("env_id", "CodeTutor-Sharded-v0")
    env_kwargs.setdefault("max_turns", 6)
    env_kwargs.setdefault("max_utterance_tokens", MAX_UTTERANCE_TOKENS)
    return ConversationEnv(domain, **env_kwargs)
