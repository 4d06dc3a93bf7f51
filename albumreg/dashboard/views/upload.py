"""Upload: put a photo of six covers into the bucket, and say where both workflows run. UI only.

The photo is checked and put by ``albumreg.dashboard.data.upload.upload_photo`` (the same checks as
``albumreg upload``); the S3 event starts both workflows.
"""

from __future__ import annotations

import streamlit as st

from albumreg.dashboard import cached
from albumreg.dashboard.data.upload import places, preview, upload_photo
from handlers.domain.errors import AlbumRegError

LAST_UPLOAD = "last-upload"


def _upload(photo: bytes, name: str) -> None:
    try:
        uploaded = upload_photo(cached.backend(), photo, name)
    except AlbumRegError as exc:
        st.error(f"{name}: {exc}. Nothing was uploaded.", icon=":material/error:")
        return
    st.session_state[LAST_UPLOAD] = uploaded
    cached.clear_reads()


def main() -> None:
    """The page."""
    st.title("Upload")
    st.caption(
        "One photo of six album covers (a 3 x 2 grid). The upload starts both workflows from "
        "the same S3 event; each reads the covers, then waits for a review."
    )
    backend = cached.backend()
    left, right = st.columns([3, 2], gap="large")
    with left, st.container(border=True):
        st.subheader("Photo", anchor=False)
        photo = st.file_uploader(
            "A JPEG, PNG or WebP photo", type=["jpg", "jpeg", "png", "webp"], key="photo"
        )
        if photo is not None:
            small = preview(photo.getvalue())
            if small is None:
                st.warning(
                    f"{photo.name} is not a photo this system can read.", icon=":material/warning:"
                )
            else:
                st.image(small, width=360)
        if (
            st.button(
                "Upload and start both workflows",
                type="primary",
                icon=":material/upload:",
                disabled=photo is None,
            )
            and photo is not None
        ):
            _upload(photo.getvalue(), photo.name)
        uploaded = st.session_state.get(LAST_UPLOAD)
        if uploaded is not None:
            st.success(
                f"Uploaded `s3://{uploaded.bucket}/{uploaded.key}` as upload "
                f"`{uploaded.upload_id}`: both workflows started.",
                icon=":material/rocket_launch:",
            )
            st.page_link(
                "views/reviews.py",
                label="Its reviews appear under Pending reviews within seconds",
                icon=":material/rate_review:",
            )
    with right, st.container(border=True):
        st.subheader("Where the workflows are", anchor=False)
        where = "the local cloud (`albumreg local`)" if backend.target.is_local else "AWS"
        st.markdown(f"Running on {where}, found in `{backend.target.source}`.")
        for place in places(backend.target, backend.deps.settings.upload_prefix):
            link = f" ([console]({place.link}))" if place.link else ""
            st.markdown(f"**{place.what}**{link}  \n`{place.name}`")
        st.caption(
            "Without the browser: `albumreg review list` and "
            "`albumreg review approve UPLOAD_ID --year SLOT=YEAR`."
        )


main()
