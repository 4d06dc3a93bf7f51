"""How the CLI and the dashboard reach a running system, and put photos into its bucket.

Imports ``handlers`` only; never ``local``, ``dashboard`` or ``stack``, so both of its users
depend on it without depending on each other.
"""
