"""The review form's logic: what a person typed becomes a ``ReviewDecision``, or field errors.

Validation is the domain model's (``ReviewDecision``), so the dashboard accepts exactly what the
CLI accepts; errors come back keyed by slot and field so the page can show each next to its
input. Submitting goes through ``submit_review`` only. Must not import Streamlit.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import ValidationError

from handlers.domain.errors import (
    AlbumRegError,
    ReviewAlreadyResolvedError,
    ReviewExpiredError,
    ReviewNotFoundError,
    TransientError,
)
from handlers.domain.models import Album, ReviewDecision
from handlers.domain.ports import AlbumRepository, Clock, ReviewInbox
from handlers.domain.reviews import submit_review
from handlers.domain.tenant import Pattern

EDITABLE_FIELDS: tuple[str, ...] = ("title", "artist", "year")
FORM_SLOT = 0
"""Slot number of errors that belong to the whole form (reviewer, comment)."""

Action = Literal["approve", "reject"]
FieldKey = tuple[int, str]


def field_key(upload_id: str, slot: int, name: str) -> str:
    """Session key of one input of one upload's form (slot ``FORM_SLOT`` for the whole form)."""
    return f"review:{upload_id}:{slot}:{name}"


def errors_key(upload_id: str) -> str:
    """Session key of the field errors of one form's last submission."""
    return f"review-errors:{upload_id}"


def target_key(upload_id: str, options: Sequence[str]) -> str:
    """Session key of the "apply to" choice; new options (one side resolved) start afresh."""
    return f"review:{upload_id}:target:{'-'.join(options)}"


@dataclass(frozen=True)
class SlotInput:
    """What the form holds for one slot, as typed (strings, maybe empty)."""

    title: str = ""
    artist: str = ""
    year: str = ""


@dataclass(frozen=True)
class Checked:
    """A valid decision, or the errors that stop one, keyed by (slot, field)."""

    decision: ReviewDecision | None
    errors: dict[FieldKey, str]


def _shown(album: Album, name: str) -> str:
    value = getattr(album, name)
    return "" if value is None else str(value)


def _message(error: Mapping[str, Any]) -> str:
    """Pydantic's message without its ``Value error,`` preamble."""
    return str(error["msg"]).removeprefix("Value error, ")


def build_decision(
    action: Action,
    inputs: Mapping[int, SlotInput],
    shown: Sequence[Album],
    *,
    reviewer: str = "",
    comment: str = "",
) -> Checked:
    """Turn the form into a decision: only fields the person changed become corrections.

    An emptied field means "keep what was extracted" (the model has no way to erase a value).
    A rejection ignores edits: it carries no corrections.
    """
    errors: dict[FieldKey, str] = {}
    corrections: list[dict[str, Any]] = []
    if action == "approve":
        for album in shown:
            typed = inputs.get(album.slot, SlotInput())
            changes: dict[str, Any] = {}
            for name in EDITABLE_FIELDS:
                value = getattr(typed, name).strip()
                if not value or value == _shown(album, name):
                    continue
                if name == "year" and not value.isdigit():
                    errors[(album.slot, name)] = "year must be a whole number, e.g. 1971"
                    continue
                changes[name] = value
            if changes:
                corrections.append({"slot": album.slot, **changes})
    raw = {
        "action": action,
        "corrections": corrections,
        "reviewer": reviewer.strip() or None,
        "comment": comment.strip() or None,
    }
    # The model checks what remains even when a year was not a number, so the person sees
    # every problem of the form at once.
    try:
        decision = ReviewDecision.model_validate(raw)
    except ValidationError as exc:
        return Checked(None, errors | _field_errors(exc, corrections))
    return Checked(None if errors else decision, errors)


def _field_errors(
    exc: ValidationError, corrections: Sequence[Mapping[str, Any]]
) -> dict[FieldKey, str]:
    errors: dict[FieldKey, str] = {}
    for error in exc.errors():
        location = error["loc"]
        if location[:1] == ("corrections",) and len(location) >= 3:
            slot = int(corrections[int(location[1])]["slot"])
            errors.setdefault((slot, str(location[2])), _message(error))
        elif location:
            errors.setdefault((FORM_SLOT, str(location[0])), _message(error))
        else:
            errors.setdefault((FORM_SLOT, "form"), _message(error))
    return errors


@dataclass(frozen=True)
class Sent:
    """What happened to one pattern's review when the form was submitted."""

    pattern: Pattern
    ok: bool
    message: str


def submit(
    decision: ReviewDecision,
    upload_id: str,
    patterns: Sequence[Pattern],
    *,
    repo: AlbumRepository,
    inbox: ReviewInbox,
    clock: Clock,
) -> list[Sent]:
    """Apply one decision to each chosen pattern; one refusal never stops the other."""
    results = []
    for pattern in patterns:
        try:
            result = submit_review(
                pattern, upload_id, decision, repo=repo, inbox=inbox, clock=clock
            )
        except ReviewAlreadyResolvedError as exc:
            results.append(Sent(pattern, False, f"resolved elsewhere, nothing sent ({exc})"))
        except ReviewExpiredError as exc:
            results.append(Sent(pattern, False, f"too late, nothing sent: {exc}"))
        except ReviewNotFoundError:
            results.append(Sent(pattern, False, "no review for this upload, nothing sent"))
        except TransientError as exc:
            results.append(Sent(pattern, False, f"{exc}"))
        except AlbumRegError as exc:
            results.append(Sent(pattern, False, f"refused: {exc}"))
        else:
            results.append(Sent(pattern, True, f"{result.outcome.value.lower()}"))
    return results
