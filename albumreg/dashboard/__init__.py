"""The Streamlit dashboard: app.py is UI only; data access and charts are plain functions."""
