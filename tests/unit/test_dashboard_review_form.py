"""The review form's logic: typed input becomes a validated decision, or errors by field."""

from __future__ import annotations

from albumreg.dashboard.review_form import FORM_SLOT, SlotInput, build_decision
from handlers.domain.models import latest_year
from tests.conftest import six_albums

SHOWN = six_albums(unrecognized=(6,))


def test_only_changed_fields_become_corrections() -> None:
    inputs = {
        1: SlotInput(title="Kind of Blue", artist="Miles Davis", year="1960"),
        2: SlotInput(title="Abbey Road", artist="The Beatles", year="1969"),
        3: SlotInput(title=" Rumours (Remaster) ", artist="", year=""),
    }

    checked = build_decision("approve", inputs, SHOWN, reviewer=" Ada ")

    assert checked.errors == {}
    assert checked.decision is not None
    assert [c.model_dump(exclude_none=True) for c in checked.decision.corrections] == [
        {"slot": 1, "year": 1960},
        {"slot": 3, "title": "Rumours (Remaster)"},
    ]
    assert checked.decision.reviewer == "Ada"


def test_untouched_form_approves_without_corrections() -> None:
    checked = build_decision("approve", {}, SHOWN)

    assert checked.decision is not None
    assert checked.decision.action == "approve"
    assert checked.decision.corrections == []


def test_unrecognized_slot_named_by_the_reviewer_is_a_correction() -> None:
    checked = build_decision(
        "approve", {6: SlotInput(title="Blue Train", artist="John Coltrane", year="1958")}, SHOWN
    )

    assert checked.decision is not None
    assert checked.decision.corrections[0].model_dump() == {
        "slot": 6,
        "title": "Blue Train",
        "artist": "John Coltrane",
        "year": 1958,
    }


def test_every_invalid_field_is_reported_at_its_slot_and_nothing_is_decided() -> None:
    inputs = {
        2: SlotInput(year="19x9"),
        3: SlotInput(year="1800"),
        4: SlotInput(year=str(latest_year() + 1)),
        5: SlotInput(title="x" * 201),
    }

    checked = build_decision("approve", inputs, SHOWN)

    assert checked.decision is None
    assert set(checked.errors) == {(2, "year"), (3, "year"), (4, "year"), (5, "title")}
    assert checked.errors[(2, "year")] == "year must be a whole number, e.g. 1971"
    assert checked.errors[(3, "year")] == f"year must be between 1900 and {latest_year()}"
    assert "200 characters" in checked.errors[(5, "title")]


def test_reviewer_with_control_characters_is_a_form_error() -> None:
    checked = build_decision("approve", {}, SHOWN, reviewer="Ada\x00")

    assert checked.decision is None
    assert checked.errors == {(FORM_SLOT, "reviewer"): "must not contain control characters"}


def test_rejection_ignores_edits_and_keeps_the_comment() -> None:
    checked = build_decision(
        "reject", {1: SlotInput(year="1960"), 2: SlotInput(year="oops")}, SHOWN, comment="blurry"
    )

    assert checked.errors == {}
    assert checked.decision is not None
    assert checked.decision.action == "reject"
    assert checked.decision.corrections == []
    assert checked.decision.comment == "blurry"
