"""The local cloud (everything on 127.0.0.1) and the ``albumreg`` command-line interface.

Sits on top of the dependency graph: it may import ``handlers`` and ``dashboard`` helpers, and
nothing imports it. It never imports Pulumi.
"""
