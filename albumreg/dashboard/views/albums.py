"""Albums: each upload's ``sf#`` and ``ldf#`` records side by side, differences highlighted.

UI only. The listing and the records come from ``albumreg.dashboard.cached``; the comparison of the
two sides is ``albumreg.dashboard.data.albums.album_pairs``.
"""

from __future__ import annotations

from datetime import date
from typing import Any, Literal

import pandas as pd  # type: ignore[import-untyped]  # pandas ships no type information
import streamlit as st

from albumreg.dashboard import cached
from albumreg.dashboard.charts import PATTERN_COLOURS
from albumreg.dashboard.data.albums import AlbumPair, UploadRow, album_pairs
from handlers.domain.models import ReviewState, WorkflowStatus
from handlers.domain.records import StoredAlbum, UploadRecord
from handlers.domain.tenant import PATTERNS, Pattern

BadgeColour = Literal["green", "red", "gray", "orange"]
# A cell that differs between the two orchestrators; every other slot is shaded so the two
# rows of one slot read as a pair.
DIFFERENT = "background-color: #FFE08A; font-weight: 600"
SHADED = "background-color: rgba(128, 128, 128, 0.07)"
# Compared field -> the column that shows it (amount and currency share the price column).
COLUMNS: dict[str, str] = {
    "title": "Title",
    "artist": "Artist",
    "year": "Year",
    "price": "Price",
    "currency": "Price",
    "price_confidence": "Price confidence",
    "price_error": "Error",
}
STATUS_COLOURS: dict[WorkflowStatus, BadgeColour] = {
    WorkflowStatus.COMPLETED: "green",
    WorkflowStatus.FAILED: "red",
    WorkflowStatus.REJECTED: "gray",
}


def _year_note(album: StoredAlbum, review: ReviewState | None) -> str:
    if album.extracted_year is not None and album.year != album.extracted_year:
        return f"corrected (read {album.extracted_year})"
    if review is ReviewState.APPROVED:
        return "confirmed"
    if review is ReviewState.TIMED_OUT:
        return "not reviewed (timed out)"
    if review is ReviewState.REJECTED:
        return "rejected"
    return "awaiting review"


def _text(value: object) -> str:
    return "-" if value is None else str(value)


def _cells(album: StoredAlbum | None, review: ReviewState | None) -> dict[str, str]:
    if album is None:
        return {column: "-" for column in ("Title", "Artist", "Year", "Year status", "Price")}
    price = "-" if album.price is None else f"{album.price:.2f} {album.currency or ''}".strip()
    confidence = album.price_confidence
    return {
        "Title": _text(album.title) if not album.unrecognized else "(unrecognized)",
        "Artist": _text(album.artist),
        "Year": _text(album.year),
        "Year status": _year_note(album, review),
        "Price": price,
        "Price confidence": "-" if confidence is None else f"{confidence:.0%}",
        "Source": _text(album.price_source),
        "Error": _text(album.price_error),
    }


def _table(pairs: list[AlbumPair], records: dict[Pattern, UploadRecord | None]) -> Any:
    """Both orchestrators' albums, slot by slot, with the cells that differ marked."""
    rows = []
    styles = []
    for index, pair in enumerate(pairs):
        marked = {COLUMNS[name] for name in pair.differences}
        for pattern in PATTERNS:
            record = records[pattern]
            review = record.review.state if record and record.review else None
            row = {"Slot": str(pair.slot), "Orchestrator": pattern.label}
            row |= _cells(pair.albums[pattern], review)
            rows.append(row)
            base = SHADED if index % 2 else ""
            colour = f"color: {PATTERN_COLOURS[pattern]}; font-weight: 600"
            styles.append(
                {
                    column: DIFFERENT
                    if column in marked
                    else colour
                    if column == "Orchestrator"
                    else base
                    for column in row
                }
            )
    frame = pd.DataFrame(rows)
    return frame.style.apply(lambda _: pd.DataFrame(styles, index=frame.index), axis=None)


def _status_cell(row: UploadRow, pattern: Pattern) -> str:
    status = row.statuses.get(pattern)
    return status.value if status else "-"


def _listing(rows: list[UploadRow]) -> None:
    table = [
        {
            "Received (UTC)": row.received_at.strftime("%Y-%m-%d %H:%M:%S"),
            "File": row.key.rsplit("/", 1)[-1],
            **{pattern.label: _status_cell(row, pattern) for pattern in PATTERNS},
            "Same outcome": len({row.statuses.get(p) for p in PATTERNS}) == 1,
            "Upload": row.upload_id,
        }
        for row in rows
    ]
    st.dataframe(
        table,
        hide_index=True,
        width="stretch",
        height=min(38 + 35 * len(table), 300),
        column_config={
            "Same outcome": st.column_config.CheckboxColumn("Same outcome", width="small"),
        },
    )


def _record_header(pattern: Pattern, record: UploadRecord | None) -> None:
    st.markdown(f"**{pattern.label}** (`{pattern.value}#`)")
    if record is None:
        st.caption("No record of this upload.")
        return
    status = record.summary.status
    review = record.review.state.value.lower().replace("_", " ") if record.review else "none"
    priced = sum(1 for album in record.albums if album.price is not None)
    with st.container(horizontal=True):
        st.badge(status.value.replace("_", " ").lower(), color=STATUS_COLOURS.get(status, "orange"))
        st.badge(f"review: {review}", color="blue")
        st.badge(f"{priced} of {len(record.albums)} priced", color="violet")
    if record.summary.error:
        st.error(f"{record.summary.error}: {record.summary.cause or ''}")
    if record.summary.execution_id:
        st.caption(f"Execution `{record.summary.execution_id}`")


def _detail(row: UploadRow) -> None:
    records = cached.upload_pair(row.upload_id)
    pairs = album_pairs(records)
    differing = sum(1 for p in pairs if p.differences)
    st.subheader(row.key.rsplit("/", 1)[-1], anchor=False)
    st.caption(
        f"Upload `{row.upload_id}` received {row.received_at:%Y-%m-%d %H:%M:%S} UTC. "
        + (
            f"{differing} of {len(pairs)} slots differ between the two orchestrators (highlighted)."
            if differing
            else "Both orchestrators agree on every slot."
        )
    )
    with st.container(border=True):
        headers = st.columns(len(PATTERNS), gap="large")
        for column, pattern in zip(headers, PATTERNS, strict=True):
            with column:
                _record_header(pattern, records[pattern])
        if pairs:
            st.dataframe(
                _table(pairs, records),
                hide_index=True,
                width="stretch",
                height=38 + 35 * 2 * len(pairs),
            )


def main() -> None:
    """The page."""
    st.title("Albums")
    st.caption(
        "Every upload ran through both orchestrators. Their records side by side: the same "
        "input should give the same albums, years and prices."
    )
    filters = st.columns([3, 1, 1])
    statuses = filters[0].multiselect(
        "Status (in either orchestrator)",
        list(WorkflowStatus),
        default=[WorkflowStatus.COMPLETED],
        format_func=lambda status: status.value.replace("_", " ").lower(),
    )
    since = filters[1].date_input("From", value=None)
    until = filters[2].date_input("To", value=None)
    rows = cached.upload_rows(
        tuple(statuses),
        since if isinstance(since, date) else None,
        until if isinstance(until, date) else None,
    )
    cards = st.columns(3)
    cards[0].metric("Uploads listed", len(rows), border=True)
    cards[1].metric(
        "Completed in both",
        sum(
            1 for r in rows if all(r.statuses.get(p) is WorkflowStatus.COMPLETED for p in PATTERNS)
        ),
        border=True,
    )
    cards[2].metric(
        "Outcomes differ",
        sum(1 for r in rows if len({r.statuses.get(p) for p in PATTERNS}) > 1),
        border=True,
    )
    if not rows:
        st.info("No upload matches these filters yet.", icon=":material/filter_alt_off:")
        return
    _listing(rows)
    by_id = {row.upload_id: row for row in rows}
    # The newest upload is open unless another is chosen: a person who just uploaded sees its
    # records at once. ``?upload=ID`` opens one directly (a link to share, the demo's).
    wanted = st.query_params.get("upload")
    chosen = st.selectbox(
        "Upload to compare",
        list(by_id),
        index=list(by_id).index(wanted) if wanted in by_id else 0,
        format_func=lambda upload_id: (
            f"{by_id[upload_id].received_at:%Y-%m-%d %H:%M:%S}  {by_id[upload_id].key}  "
            f"({upload_id})"
        ),
    )
    if chosen is None:
        return
    st.query_params["upload"] = chosen
    _detail(by_id[chosen])


main()
