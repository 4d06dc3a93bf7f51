"""The dashboard's entry point (``streamlit run``, see ``launch``): page setup and navigation.

UI only: no boto3 and no business logic. The pages live in ``views``; data comes through
``cached`` and review decisions through ``review_form``.
"""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from albumreg.client.target import DEFAULT_ENV_FILE, ENV_FILE_VARIABLE, TargetError
from albumreg.dashboard import cached

VIEWS = Path(__file__).with_name("views")

st.set_page_config(
    page_title="albumreg: Step Functions vs durable functions",
    page_icon=":material/album:",
    layout="wide",
)

page = st.navigation(
    [
        st.Page(
            VIEWS / "reviews.py",
            title="Pending reviews",
            icon=":material/rate_review:",
            default=True,
        ),
        st.Page(VIEWS / "albums.py", title="Albums", icon=":material/album:", url_path="albums"),
        st.Page(
            VIEWS / "comparison.py",
            title="Comparison",
            icon=":material/compare_arrows:",
            url_path="comparison",
        ),
        st.Page(
            VIEWS / "executions.py",
            title="Executions",
            icon=":material/troubleshoot:",
            url_path="executions",
        ),
        st.Page(VIEWS / "upload.py", title="Upload", icon=":material/upload:", url_path="upload"),
    ]
)

with st.sidebar:
    st.markdown("### :material/album: albumreg")
    st.caption("One album workflow, built with Step Functions and with Lambda durable functions.")
    st.button(
        "Refresh data",
        icon=":material/refresh:",
        on_click=cached.clear,
        width="stretch",
        help="Read everything again now (listings otherwise refresh every few seconds).",
    )

try:
    backend = cached.backend()
except TargetError as exc:
    st.title("No running system found")
    st.error(str(exc), icon=":material/cloud_off:")
    st.markdown(
        "Start the local cloud in another terminal, then press **Refresh data**:\n\n"
        "```\nalbumreg local\n```\n"
        f"It writes its endpoints to `{DEFAULT_ENV_FILE}` (or the file named by "
        f"`{ENV_FILE_VARIABLE}`), which this dashboard reads. Against AWS, run the dashboard "
        "from the project directory of a deployed stack (`pulumi up`)."
    )
    st.stop()

with st.sidebar:
    where = "local cloud" if backend.target.is_local else "AWS"
    st.caption(
        f"Connected to the **{where}** ({backend.target.source}): bucket "
        f"`{backend.target.bucket}`, table `{backend.target.table_name}`."
    )

page.run()
