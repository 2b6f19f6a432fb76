"""One exception hierarchy for convenv.

Every message says what was expected, what was received, and what to do about it, in the form
"expected ..., got ...; do ...". Each class has a ``pytest.raises(..., match=...)`` test.
"""

from __future__ import annotations


class ConvEnvError(Exception):
    """Base class of every error convenv raises on purpose."""


class RegistrationError(ConvEnvError):
    """An env id is malformed or registered twice."""


class NameNotFound(RegistrationError, KeyError):
    """No env with that name is registered (the message suggests close matches)."""

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0]) if self.args else ""


class VersionNotFound(NameNotFound):
    """The name exists but not with that version (the message lists the versions that do)."""


class DeprecatedEnv(RegistrationError):
    """An older version was requested while a newer one exists."""


class ResetNeeded(ConvEnvError, RuntimeError):
    """``step`` was called before ``reset`` or after the episode ended."""


class InvalidAction(ConvEnvError, ValueError):
    """An action is not a valid utterance (dtype, vocabulary, length, forbidden ids, wrong speaker).

    Raised before anything is appended: the transcript is left exactly as it was.
    """


class NotYourTurn(InvalidAction):
    """The action dict lacks an action for the agent whose turn it is."""


class MissingExtra(ConvEnvError, ImportError):
    """An optional dependency is missing; the message names the extra to install."""


class VerifierError(ConvEnvError, RuntimeError):
    """A verifier could not run at all (its worker failed to start, a sandbox is missing)."""


class TemplateError(ConvEnvError, ValueError):
    """A chat template cannot be split into append-only per-message renders."""


def missing_extra(package: str, extra: str) -> MissingExtra:
    """Build the error raised when an optional dependency is missing."""
    return MissingExtra(
        f"expected the optional dependency {package!r} to be installed, got an ImportError; "
        f"do `pip install 'convenv[{extra}]'`"
    )
