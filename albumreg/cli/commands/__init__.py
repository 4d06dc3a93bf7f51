"""One module per ``albumreg`` subcommand; each exposes ``register(subparsers)``."""
