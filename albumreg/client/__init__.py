"""How the CLI, the tools and the dashboard reach a running system, local or deployed.

Targets, uploads, following workflows, the inspector and text formats. The bottom room: imports
``handlers`` only, never another room or ``stack``, so its users depend on it without depending
on each other.
"""
