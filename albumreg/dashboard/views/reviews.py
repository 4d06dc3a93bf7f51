"""Pending reviews: the human step of both workflows, one card per upload. UI only.

A decision goes through ``albumreg.dashboard.review_form`` (validation by the domain models, then
``submit_review``); this page only draws the form and what happened.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

import streamlit as st

from albumreg.client.formatting import duration
from albumreg.dashboard import cached, review_form
from albumreg.dashboard.data.reviews import ReviewCard, ReviewGroup, ReviewStatus, review_status
from albumreg.dashboard.review_form import errors_key, field_key, target_key
from albumreg.dashboard.settings import DASHBOARD_REVIEWS_PER_PAGE
from handlers.domain.models import Album
from handlers.domain.tenant import PATTERNS, Pattern

# Session key of what this reviewer sent and what came back, newest first.
DECISIONS = "review-decisions"
DECISIONS_SHOWN = 6
TARGETS: dict[str, tuple[Pattern, ...]] = {
    "both": PATTERNS,
    Pattern.STEP_FUNCTIONS.value: (Pattern.STEP_FUNCTIONS,),
    Pattern.DURABLE.value: (Pattern.DURABLE,),
}
TARGET_LABELS = {
    "both": "Both workflows",
    Pattern.STEP_FUNCTIONS.value: f"{Pattern.STEP_FUNCTIONS.label} only",
    Pattern.DURABLE.value: f"{Pattern.DURABLE.label} only",
}
BadgeColour = Literal["green", "orange", "red"]
# Slot, title, artist, year, what the recognizer said: one row per cover.
COLUMNS = [0.35, 2.6, 2.4, 1.0, 1.3]


def _log(ok: bool, text: str) -> None:
    entries: list[tuple[bool, str]] = st.session_state.setdefault(DECISIONS, [])
    entries.insert(0, (ok, text))
    del entries[DECISIONS_SHOWN:]


def decide(upload_id: str, action: str, shown: list[Album], options: list[str]) -> None:
    """Form callback: validate, then send to the chosen patterns; runs before the redraw."""
    state = st.session_state
    inputs = {
        album.slot: review_form.SlotInput(
            **{
                name: str(state.get(field_key(upload_id, album.slot, name)) or "")
                for name in review_form.EDITABLE_FIELDS
            }
        )
        for album in shown
    }
    checked = review_form.build_decision(
        "approve" if action == "approve" else "reject",
        inputs,
        shown,
        reviewer=str(state.get(field_key(upload_id, review_form.FORM_SLOT, "reviewer")) or ""),
        comment=str(state.get(field_key(upload_id, review_form.FORM_SLOT, "comment")) or ""),
    )
    state[errors_key(upload_id)] = checked.errors
    if checked.decision is None:
        _log(False, f"Upload {upload_id}: nothing sent; correct the fields marked in red.")
        return
    if not options:
        _log(False, f"Upload {upload_id}: nothing sent; no review of it is waiting any more.")
        return
    target = state.get(target_key(upload_id, options)) or options[0]
    deps = cached.backend().deps
    for sent in review_form.submit(
        checked.decision,
        upload_id,
        TARGETS[target],
        repo=deps.repo,
        inbox=deps.inbox,
        clock=deps.clock,
    ):
        _log(sent.ok, f"{sent.pattern.label}, upload {upload_id}: {sent.message}")
    cached.clear_reads()


def _badge(pattern: Pattern, status: ReviewStatus) -> None:
    if status.approvable and status.seconds_left is not None:
        colour: BadgeColour = "orange" if status.seconds_left < 300 else "green"
        st.badge(
            f"{pattern.label}: open, {duration(status.seconds_left)} left",
            icon=":material/hourglass_top:",
            color=colour,
        )
    else:
        st.badge(f"{pattern.label}: {status.label}", icon=":material/block:", color="gray")


def _confidence(album: Album) -> None:
    if album.unrecognized:
        st.badge("unrecognized", icon=":material/help:", color="red")
        if album.note:
            st.caption(album.note)
        return
    colour: BadgeColour = (
        "green" if album.confidence >= 0.8 else "orange" if album.confidence >= 0.5 else "red"
    )
    st.badge(f"{album.confidence:.0%} sure", color=colour)


def _albums_form(card: ReviewCard, shown: list[Album], options: list[str]) -> None:
    upload_id = card.upload_id
    errors = st.session_state.get(errors_key(upload_id), {})
    locked = not options
    # Enter in a year field must not approve the whole card: only the buttons submit.
    with st.form(f"review-form-{upload_id}", border=False, enter_to_submit=False):
        header = st.columns(COLUMNS, vertical_alignment="bottom")
        for column, text in zip(header, ("#", "Title", "Artist", "Year", "Read as"), strict=True):
            column.markdown(f"**{text}**")
        for album in shown:
            row = st.columns(COLUMNS, vertical_alignment="center")
            row[0].markdown(f"**{album.slot}**")
            for column, name in zip(row[1:4], review_form.EDITABLE_FIELDS, strict=True):
                with column:
                    value = getattr(album, name)
                    st.text_input(
                        f"{name.title()} of slot {album.slot}",
                        value="" if value is None else str(value),
                        key=field_key(upload_id, album.slot, name),
                        label_visibility="collapsed",
                        placeholder=f"type the {name}" if album.unrecognized else "",
                        disabled=locked,
                    )
                    if (album.slot, name) in errors:
                        st.error(errors[(album.slot, name)], icon=":material/error:")
            with row[4]:
                _confidence(album)
        st.divider()
        left, middle, right = st.columns([1.2, 1.6, 1.6])
        with left:
            if options:
                st.radio(
                    "Apply to",
                    options,
                    format_func=TARGET_LABELS.__getitem__,
                    key=target_key(upload_id, options),
                )
        with middle:
            st.text_input(
                "Reviewer",
                key=field_key(upload_id, review_form.FORM_SLOT, "reviewer"),
                disabled=locked,
            )
        with right:
            st.text_input(
                "Comment (shown with a rejection)",
                key=field_key(upload_id, review_form.FORM_SLOT, "comment"),
                disabled=locked,
            )
        for (slot, name), message in errors.items():
            if slot == review_form.FORM_SLOT:
                st.error(f"{name}: {message}", icon=":material/error:")
        buttons = st.columns([1, 1, 4])
        buttons[0].form_submit_button(
            "Approve",
            type="primary",
            icon=":material/check:",
            on_click=decide,
            args=(upload_id, "approve", shown, options),
            disabled=locked,
            width="stretch",
        )
        buttons[1].form_submit_button(
            "Reject",
            icon=":material/close:",
            on_click=decide,
            args=(upload_id, "reject", shown, options),
            disabled=locked,
            width="stretch",
        )


def review_card(group: ReviewGroup, now: datetime) -> None:
    """One upload: the photo, each pattern's review state, and the form."""
    card = cached.review_card(group)
    upload_id = card.upload_id
    statuses = {pattern: review_status(card.reviews[pattern], now) for pattern in PATTERNS}
    approvable = [pattern for pattern in PATTERNS if statuses[pattern].approvable]
    options = (["both"] if len(approvable) == len(PATTERNS) else []) + [
        pattern.value for pattern in approvable
    ]
    # The albums of a review still open come first: that is what the decision will apply to.
    known = [r for r in (card.reviews[p] for p in (*approvable, *PATTERNS)) if r is not None]
    if not known:
        return
    shown = list(known[0].albums)
    with st.container(border=True):
        title = (card.key or upload_id).rsplit("/", 1)[-1]
        st.subheader(title, anchor=False)
        requested = min(review.requested_at for review in known)
        st.caption(f"Upload `{upload_id}`, waiting since {requested:%Y-%m-%d %H:%M:%S} UTC")
        with st.container(horizontal=True):
            for pattern in PATTERNS:
                _badge(pattern, statuses[pattern])
        if not approvable:
            st.info(
                "Nothing left to decide here: each review was resolved elsewhere or timed out "
                "(a workflow that timed out goes on with the extracted data).",
                icon=":material/info:",
            )
        photo, form = st.columns([1, 2.6], gap="large")
        with photo:
            image = cached.thumbnail(card.bucket, card.key) if card.bucket and card.key else None
            if image:
                st.image(image, caption=card.key, width="stretch")
            else:
                st.info("The photo is not available.", icon=":material/hide_image:")
        with form:
            _albums_form(card, shown, options)


def main() -> None:
    """The page."""
    st.title("Pending reviews")
    st.caption(
        "Both workflows pause after reading the covers and cost nothing while they wait. "
        "Confirm or correct the albums, then approve or reject, for one workflow or both."
    )
    groups = cached.open_review_groups()
    now = cached.backend().deps.clock.now()
    waiting = {p: sum(1 for g in groups if p in g.reviews) for p in PATTERNS}
    deadlines = [r.expires_at for g in groups for r in g.reviews.values()]
    cards = st.columns(4)
    cards[0].metric("Uploads waiting", len(groups), border=True)
    for column, pattern in zip(cards[1:3], PATTERNS, strict=True):
        column.metric(f"{pattern.label} reviews open", waiting[pattern], border=True)
    next_deadline = duration((min(deadlines) - now).total_seconds()) if deadlines else "-"
    cards[3].metric("Next timeout in", next_deadline, border=True)

    for ok, text in st.session_state.get(DECISIONS, []):
        if ok:
            st.success(text, icon=":material/check_circle:")
        else:
            st.warning(text, icon=":material/warning:")

    if not groups:
        st.info(
            "No review is waiting. Upload a photo on the **Upload** page (or run "
            "`albumreg upload PATH`); its reviews appear here within seconds.",
            icon=":material/inbox:",
        )
        return
    pages = -(-len(groups) // DASHBOARD_REVIEWS_PER_PAGE)
    number = st.pagination(pages, key="review-page") if pages > 1 else 1
    start = (number - 1) * DASHBOARD_REVIEWS_PER_PAGE
    for group in groups[start : start + DASHBOARD_REVIEWS_PER_PAGE]:
        review_card(group, now)


main()
