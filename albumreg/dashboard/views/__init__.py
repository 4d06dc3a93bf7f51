"""The dashboard's pages, run by ``st.navigation`` from ``albumreg/dashboard/app.py``: UI only.

A page is a script: a bare string statement in it would be drawn on the page (Streamlit's
"magic"), so constants there are explained with comments, not docstrings.
"""
