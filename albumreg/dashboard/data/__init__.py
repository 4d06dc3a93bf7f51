"""What the dashboard shows, as plain data: one module per page of ``views/``, and the backend.

Never imports Streamlit: ``albumreg.dashboard.cached`` adds the caching, the views the page.
"""
