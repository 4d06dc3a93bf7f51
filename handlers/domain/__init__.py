"""The album-registration domain: models, the four business steps, ports and policy.

Imports no orchestrator SDK, no Pulumi, no Streamlit and no boto3 (a test enforces it).
"""
