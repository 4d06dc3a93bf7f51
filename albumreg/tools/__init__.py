"""Measuring tools behind ``albumreg`` commands, never the CLI itself.

The workflow, scenario, dashboard and recognition benches, the comparison report, repository
metrics and sample photos. They start local clouds (``albumreg.cloud``) and read running systems
(``albumreg.client``).
"""
