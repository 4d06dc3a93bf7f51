"""The ``albumreg`` command: a dispatcher, one module per subcommand, the demo they run.

The dispatcher is ``main``, the subcommands are ``commands``. The top room: it may import every
other, nothing imports it.
"""
