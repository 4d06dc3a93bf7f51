"""Secure defaults: secrets never print, servers listen on loopback unless told otherwise, and
Lambda code never evaluates data (model output, events, review input stay values)."""

from __future__ import annotations

import ast
import inspect
import traceback
from pathlib import Path

from albumreg.cli.main import build_parser
from albumreg.cloud.durable_plane import DurablePlane
from albumreg.cloud.fake_discogs import PricingApiServer
from albumreg.cloud.local_cloud import CloudOptions
from albumreg.dashboard.launch import dashboard_command
from handlers.adapters.pricing.transport import Token
from handlers.config import Settings

ROOT = Path(__file__).parents[2]
SECRET = "s3cr3t-discogs-token-value"
LOOPBACK = "127.0.0.1"


def test_settings_never_print_the_pricing_token() -> None:
    settings = Settings(table_name="t", pricing_token=SECRET)
    try:
        raise RuntimeError(f"cannot start with {settings!r}")
    except RuntimeError as exc:
        printed = "".join(traceback.format_exception(exc))

    for text in (repr(settings), str(settings), f"{settings}", printed):
        assert SECRET not in text
    assert "pricing_token='***'" in repr(settings)


def test_token_prints_as_stars_wherever_it_is_formatted() -> None:
    token = Token(SECRET)
    for text in (repr(token), str(token), f"{token}", f"{[token]}", f"{ {'token': token} }"):
        assert SECRET not in text
    assert token.reveal() == SECRET


def test_albumreg_local_binds_loopback_by_default() -> None:
    args = build_parser().parse_args(["local"])
    assert args.host == LOOPBACK
    assert CloudOptions().host == LOOPBACK


def test_albumreg_dashboard_binds_loopback_by_default() -> None:
    command = dashboard_command(headless=True)
    assert command[command.index("--server.address") + 1] == LOOPBACK
    # A person can still choose another interface, explicitly.
    chosen = dashboard_command(["--server.address", "0.0.0.0"], headless=True)  # noqa: S104
    assert chosen.count("--server.address") == 1


def test_local_servers_bind_loopback_by_default() -> None:
    assert build_parser().parse_args(["pricing-api"]).host == LOOPBACK
    for server in (PricingApiServer, DurablePlane):
        assert inspect.signature(server).parameters["host"].default == LOOPBACK


FORBIDDEN_CALLS = frozenset({"eval", "exec", "compile", "__import__"})
FORBIDDEN_MODULES = frozenset({"pickle", "marshal", "shelve", "subprocess", "yaml", "dill"})


def _evaluating_code(source: str, name: str) -> list[str]:
    tree = ast.parse(source)
    found: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
            if node.func.id in FORBIDDEN_CALLS:
                found.append(f"{name}:{node.lineno} {node.func.id}()")
        elif isinstance(node, ast.Import | ast.ImportFrom):
            names = [alias.name for alias in node.names]
            modules = [node.module] if isinstance(node, ast.ImportFrom) and node.module else names
            found += [
                f"{name}:{node.lineno} import {module}"
                for module in modules
                if module.split(".")[0] in FORBIDDEN_MODULES
            ]
        elif isinstance(node, ast.Attribute) and node.attr in {"system", "popen"}:
            found.append(f"{name}:{node.lineno} .{node.attr}")
    return found


def test_lambda_code_never_evaluates_data() -> None:
    sources = sorted((ROOT / "handlers").rglob("*.py"))
    assert len(sources) > 20, "the walk must see the handlers package"

    findings = [
        found for path in sources for found in _evaluating_code(path.read_text(), path.name)
    ]
    assert findings == []


def test_the_evaluation_check_finds_an_eval_and_a_pickle() -> None:
    source = "import pickle\n\ndef leak(text):\n    return eval(text)\n"
    assert _evaluating_code(source, "probe.py") == ["probe.py:1 import pickle", "probe.py:4 eval()"]
