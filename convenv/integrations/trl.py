"""Multi-turn GRPO with TRL: a ``rollout_func`` for ``trl.GRPOTrainer`` that plays whole convenv conversations.

TRL's ``GRPOTrainer(rollout_func=...)`` (experimental in TRL 1.x) hands the rollout function the prompts of a
batch (each repeated ``num_generations`` times, consecutively) and the trainer, and expects, per prompt, one
``prompt_ids`` list, one ``completion_ids`` list and their ``logprobs``; an ``env_mask`` field marks the
completion ids the model generated (1) versus ids the environment wrote (0), and any other field is passed to the
reward functions. :class:`ConvenvRollout` fills that contract with conversations:

* A prompt is a key into tasks the rollout drew itself (:meth:`ConvenvRollout.dataset`), so a group of
  ``num_generations`` rows plays one task: G conversations on one problem, as GRPO needs.
* Each conversation is played by :func:`convenv.algorithms.rollout.collect`: the trainer's model answers as
  ``role`` through :class:`~convenv.agents.HFAgent` (batched generation, KV cache kept across turns), the
  partner (by default the env's scripted teacher) replies, the env verifies.
* The trained role's final view is split where its first reply starts: ``prompt_ids`` is the view before it (the
  system prompt, the teacher's opening, the reply header), ``completion_ids`` the rest of the conversation.
  ``env_mask`` is 1 exactly on the ids the model sampled (each reply and its end-of-turn id), so TRL's loss
  covers the student's tokens and never the teacher's or the chat template's. The views are append-only (DESIGN
  §3): the ids TRL scores are the ids the model generated from, never re-tokenized text.
* ``logprobs`` are those of the sampling distribution (temperature, top-k/p, structural ids banned); TRL uses them
  only for vLLM importance sampling. The reward is the episode's return (success ``gamma ** (t - 1)``, minus turn
  costs), passed on as the ``episode_return`` field and read by :func:`episode_return`.

Use the same Hugging Face tokenizer for the model, the trainer (``processing_class``) and the env; keep TRL's
``mask_truncated_completions=False`` (a conversation ends with the env's message footer, not an EOS token, so TRL
would count every one as truncated; ``completions/clipped_ratio`` reads 1.0 for the same reason).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

import convenv
from convenv.error import missing_extra

__all__ = ["ConvenvRollout", "episode_return"]


class ConvenvRollout:
    """A TRL ``rollout_func`` that plays ``env_id`` conversations with the trainer's model as ``role``.

    Args:
        env_id: a registered env id (e.g. ``"GuessNumber-v0"``).
        tokenizer: the Hugging Face tokenizer of the model (also the trainer's ``processing_class``); the envs are
            made with it, so env ids are model ids.
        role: the trained role (``"student"`` or ``"teacher"``).
        partner: the agent playing the other role (``act(observations, infos)``); default the env's scripted
            teacher (required when ``role="teacher"``).
        env_kwargs: keyword arguments of ``convenv.make`` (e.g. ``{"difficulty": 1, "max_turns": 4}``).
        max_new_tokens: most ids per reply (default the env's ``max_utterance_tokens``).
        seed: seeds the model agent's sampling generator.

    Raises:
        ValueError: ``role`` is not an agent of the env, or a teacher is trained without a ``partner``.

    """

    def __init__(
        self,
        env_id: str,
        tokenizer: Any,
        *,
        role: str = "student",
        partner: Any = None,
        env_kwargs: Mapping[str, Any] | None = None,
        max_new_tokens: int | None = None,
        seed: int = 0,
    ):
        self.env_id = env_id
        self.env_kwargs = {**dict(env_kwargs or {}), "tokenizer": tokenizer}
        self.envs = [convenv.make(env_id, **self.env_kwargs)]
        env = self.envs[0]
        if role not in env.possible_agents:
            raise ValueError(f"expected role in {env.possible_agents}, got {role!r}; pick one of those")
        if partner is None and role != "student":
            raise ValueError(
                f"expected a partner agent for role {role!r}, got None; pass partner=... (e.g. "
                "convenv.envs.course.BisectionStudent(env.tokenizer)); only the teacher has a scripted default"
            )
        self.role = role
        self.partner = partner if partner is not None else env.default_teacher()
        self.max_new_tokens = int(max_new_tokens or env.max_utterance_tokens)
        self.seed = int(seed)
        self.tasks: dict[str, Any] = {}
        self._agent: Any = None
        self.__name__ = "convenv_rollout"  # TRL and loggers name functions by __name__

    def dataset(self, n: int, seed: int = 0) -> Any:
        """A ``datasets.Dataset`` with a ``"prompt"`` column: keys of ``n`` tasks drawn by ``reset(seed=seed + i)``.

        The key is the task id (a prompt column of task ids keeps TRL's logs readable); the rollout plays the
        task behind it. Tasks that repeat (small task spaces) simply appear more than once.

        Raises:
            MissingExtra: ``datasets`` is not installed (``pip install 'convenv[trl]'``).

        """
        try:
            from datasets import Dataset
        except ImportError as err:
            raise missing_extra("datasets", "trl") from err
        keys = []
        env = self.envs[0]
        for i in range(int(n)):
            env.reset(seed=int(seed) + i)
            self.tasks[env.task.id] = env.task
            keys.append(env.task.id)
        return Dataset.from_dict({"prompt": keys})

    def __call__(self, prompts: Sequence[Any], trainer: Any) -> dict[str, list]:
        """Play one conversation per prompt with ``trainer``'s model; the fields ``GRPOTrainer`` expects.

        Returns:
            ``prompt_ids``, ``completion_ids``, ``logprobs`` and ``env_mask`` (lists of int / float lists, one per
            prompt) and the reward fields ``episode_return`` (float) and ``success`` (bool) per prompt.

        Raises:
            KeyError: a prompt is not a key made by :meth:`dataset`.

        """
        from convenv.algorithms.rollout import collect

        unknown = [p for p in prompts if not isinstance(p, str) or p not in self.tasks]
        if unknown:
            raise KeyError(
                f"expected prompts made by ConvenvRollout.dataset(), got {unknown[0]!r}; build the trainer's "
                "train_dataset with rollout.dataset(n)"
            )
        while len(self.envs) < len(prompts):
            self.envs.append(convenv.make(self.env_id, **self.env_kwargs))
        envs = self.envs[: len(prompts)]
        batch = collect(envs, self.agent(trainer), self.partner, tasks=[self.tasks[p] for p in prompts])
        return rollout_fields(batch)

    def agent(self, trainer: Any) -> Any:
        """The ``HFAgent`` playing ``role`` with the trainer's (unwrapped) model and sampling settings."""
        from convenv.agents import HFAgent

        model = trainer.model
        if hasattr(trainer, "accelerator"):  # DDP / DeepSpeed wrappers: generate with the bare model
            model = trainer.accelerator.unwrap_model(model)
        if self._agent is None or self._agent.model is not model:
            top_k = int(getattr(trainer, "top_k", 0) or 0)
            top_p = float(getattr(trainer, "top_p", 1.0) or 1.0)
            self._agent = HFAgent.for_env(
                self.envs[0],
                model,
                role=self.role,
                device=None,  # the trainer placed the model
                do_sample=True,
                temperature=float(getattr(trainer, "temperature", 1.0)),
                top_k=top_k or None,
                top_p=top_p if top_p < 1.0 else None,
                max_new_tokens=self.max_new_tokens,
                seed=self.seed,
            )
        return self._agent

    def close(self) -> None:
        """Close the envs (their verifier workers)."""
        for env in self.envs:
            env.close()


def rollout_fields(batch: Any) -> dict[str, list]:
    """A :class:`~convenv.algorithms.rollout.RolloutBatch` as the fields a TRL ``rollout_func`` returns.

    Each row is cut at its first sampled id: before it is the prompt, from it on the completion, with ``env_mask``
    the batch's ``loss_mask`` there. A row without sampled ids (the episode ended before the role spoke) keeps its
    last id as a completion with mask 0, so it adds nothing to the loss.
    """
    out: dict[str, list] = {k: [] for k in ("prompt_ids", "completion_ids", "logprobs", "env_mask")}
    for i in range(len(batch)):
        n = int(batch.attention_mask[i].sum())
        tokens = batch.tokens[i, :n].tolist()
        mask = batch.loss_mask[i, :n].numpy()
        sampled = np.flatnonzero(mask > 0)
        cut = int(sampled[0]) if sampled.size else n - 1
        out["prompt_ids"].append(tokens[:cut])
        out["completion_ids"].append(tokens[cut:])
        out["logprobs"].append(batch.old_logprobs[i, cut:n].tolist())
        out["env_mask"].append([int(m > 0) for m in mask[cut:]])
    out["episode_return"] = [float(r) for r in batch.episode_return]
    out["success"] = [bool(s) for s in batch.success]
    return out


def episode_return(
    completions: Sequence[Any], episode_return: Sequence[float] | None = None, **kwargs: Any
) -> list[float]:
    """TRL reward function: each conversation's return, as :class:`ConvenvRollout` reported it.

    Raises:
        ValueError: no ``episode_return`` field reached the reward function (the trainer has no
            ``rollout_func=ConvenvRollout(...)``).

    """
    if episode_return is None:
        raise ValueError(
            "expected an 'episode_return' field from the rollout, got none; pass rollout_func=ConvenvRollout(...) "
            "to GRPOTrainer together with reward_funcs=episode_return"
        )
    if len(episode_return) != len(completions):
        raise ValueError(
            f"expected one episode_return per completion ({len(completions)}), got {len(episode_return)}; "
            "return the rollout's fields unchanged"
        )
    return [float(r) for r in episode_return]
