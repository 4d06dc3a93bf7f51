"""How this ``albumreg`` was started, so the commands it suggests run exactly as printed.

``make demo`` runs ``.venv/bin/albumreg``, which is not on ``PATH`` in a new terminal: a hint
that says ``albumreg review approve ...`` would fail there. Imports nothing of the product.
"""

from __future__ import annotations

import shlex
import shutil
import sys
from pathlib import Path

PROGRAM = "albumreg"


def _shown(path: Path, cwd: Path) -> str:
    """``path`` relative to ``cwd`` when inside it (with a slash, so a shell runs that file)."""
    try:
        relative = path.absolute().relative_to(cwd.absolute())
    except ValueError:
        return str(path.absolute())
    text = str(relative)
    return text if "/" in text else f"./{text}"


def cli_command(argv0: str | None = None, cwd: Path | None = None) -> str:
    """The command a person types to run this program again, shell-quoted.

    ``albumreg`` when that name on ``PATH`` is the program that is running; the path it was
    started by otherwise (``.venv/bin/albumreg``); ``<python> -m albumreg.cli.main`` when it was
    started as a module.

    Args:
        argv0: how the program was started; ``sys.argv[0]`` by default.
        cwd: the directory the hint is read in; the working directory by default.
    """
    here = cwd or Path.cwd()
    started = here / (argv0 if argv0 is not None else sys.argv[0])  # as typed, from ``here``
    on_path = shutil.which(PROGRAM)
    if started.name == PROGRAM:
        if on_path and Path(on_path).resolve() == started.resolve():
            return PROGRAM
        return shlex.quote(_shown(started, here))
    return f"{shlex.quote(_shown(Path(sys.executable), here))} -m albumreg.cli.main"
