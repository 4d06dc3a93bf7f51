"""DynamoDB expressions are always parameterised: an AST walk over the repository adapter accepts
only expression text built from constants and loop counters (parameters followed to every call
site), so a value pasted into an expression fails here. No other machine-side module writes an
expression, so the walk covers every one the product sends.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[2]
ADAPTER = ROOT / "handlers" / "adapters" / "dynamodb.py"
MACHINE_SIDE = ("handlers", "albumreg", "stack")


@dataclass(frozen=True)
class Site:
    """One expression in the source: where, in which function, built from what."""

    line: int
    key: str
    value: ast.expr
    function: ast.FunctionDef


def _is_expression_key(name: object) -> bool:
    return isinstance(name, str) and name.endswith("Expression")


def expression_sites(tree: ast.Module) -> Iterator[Site]:
    """Every place an ``*Expression`` gets its text."""
    for function in (node for node in ast.walk(tree) if isinstance(node, ast.FunctionDef)):
        for node in ast.walk(function):
            if isinstance(node, ast.Call):
                for keyword in node.keywords:
                    if _is_expression_key(keyword.arg):
                        yield Site(node.lineno, str(keyword.arg), keyword.value, function)
            elif isinstance(node, ast.Dict):
                for key, value in zip(node.keys, node.values, strict=True):
                    if isinstance(key, ast.Constant) and _is_expression_key(key.value):
                        yield Site(node.lineno, str(key.value), value, function)
            elif isinstance(node, ast.Assign):
                for target in node.targets:
                    key = target.slice if isinstance(target, ast.Subscript) else None
                    if isinstance(key, ast.Constant) and _is_expression_key(key.value):
                        yield Site(node.lineno, str(key.value), node.value, function)


def _counters(scope: ast.AST) -> set[str]:
    """Names bound to integers by ``range(...)`` or as the index of ``enumerate(...)``."""
    names: set[str] = set()
    for node in ast.walk(scope):
        if not isinstance(node, ast.comprehension | ast.For):
            continue
        call = node.iter
        if not (isinstance(call, ast.Call) and isinstance(call.func, ast.Name)):
            continue
        if call.func.id == "range" and isinstance(node.target, ast.Name):
            names.add(node.target.id)
        elif call.func.id == "enumerate" and isinstance(node.target, ast.Tuple):
            first = node.target.elts[0]
            if isinstance(first, ast.Name):
                names.add(first.id)
    return names


def _operands(value: ast.expr) -> list[ast.expr] | None:
    """What a concatenation (``a + b``) or a conditional (``a if c else b``) can yield."""
    if isinstance(value, ast.BinOp) and isinstance(value.op, ast.Add):
        return [value.left, value.right]
    if isinstance(value, ast.IfExp):
        return [value.body, value.orelse]
    return None


class Checker:
    """Decides whether an expression's text can contain anything but constants and counters."""

    def __init__(self, tree: ast.Module) -> None:
        self.functions = {
            node.name: node for node in ast.walk(tree) if isinstance(node, ast.FunctionDef)
        }
        self.tree = tree

    def safe(self, value: ast.expr | None, function: ast.FunctionDef) -> bool:
        if value is None or isinstance(value, ast.Constant):
            return value is None or value.value is None or isinstance(value.value, str)
        if isinstance(value, ast.JoinedStr):
            return self._counters_only(value, function)
        operands = _operands(value)
        if operands is not None:
            return all(self.safe(operand, function) for operand in operands)
        if isinstance(value, ast.Call):
            return self._joined(value, function)
        if isinstance(value, ast.Name):
            return self._parameter_is_always_safe(value.id, function)
        return False

    @staticmethod
    def _counters_only(value: ast.JoinedStr, function: ast.FunctionDef) -> bool:
        """An f-string whose only holes are loop counters (``#a{i} = :v{i}``)."""
        counters = _counters(function)
        return all(
            isinstance(part, ast.Constant)
            or (
                isinstance(part, ast.FormattedValue)
                and isinstance(part.value, ast.Name)
                and part.value.id in counters
            )
            for part in value.values
        )

    def _joined(self, call: ast.Call, function: ast.FunctionDef) -> bool:
        """``", ".join(<safe> for ...)``; any other call could return anything."""
        return (
            isinstance(call.func, ast.Attribute)
            and call.func.attr == "join"
            and isinstance(call.func.value, ast.Constant)
            and len(call.args) == 1
            and isinstance(call.args[0], ast.GeneratorExp | ast.ListComp)
            and self.safe(call.args[0].elt, function)
        )

    def _parameter_is_always_safe(self, name: str, function: ast.FunctionDef) -> bool:
        """A parameter passes when its default and every argument at every call site pass."""
        arguments = function.args
        positional = [arg.arg for arg in arguments.posonlyargs + arguments.args]
        keyword_only = [arg.arg for arg in arguments.kwonlyargs]
        if name not in positional + keyword_only:
            return False
        defaults = dict(zip(positional[::-1], arguments.defaults[::-1], strict=False))
        defaults |= {
            arg.arg: default
            for arg, default in zip(arguments.kwonlyargs, arguments.kw_defaults, strict=True)
            if default is not None
        }
        if name in defaults and not self.safe(defaults[name], function):
            return False
        calls = list(self._calls_to(function.name))
        if not calls:
            return False
        for caller, call in calls:
            passed = next((kw.value for kw in call.keywords if kw.arg == name), None)
            if passed is None and name in positional:
                index = positional.index(name) - int(positional[:1] == ["self"])
                passed = call.args[index] if index < len(call.args) else None
            if passed is None and name not in defaults:
                return False
            if not self.safe(passed, caller):
                return False
        return True

    def _calls_to(self, name: str) -> Iterator[tuple[ast.FunctionDef, ast.Call]]:
        for caller in self.functions.values():
            for node in ast.walk(caller):
                if isinstance(node, ast.Call):
                    callee = node.func
                    called = callee.id if isinstance(callee, ast.Name) else None
                    if isinstance(callee, ast.Attribute):
                        called = callee.attr
                    if called == name:
                        yield caller, node


def unsafe_sites(source: str) -> list[str]:
    tree = ast.parse(source)
    checker = Checker(tree)
    return [
        f"line {site.line}: {site.key} in {site.function.name}()"
        for site in expression_sites(tree)
        if not checker.safe(site.value, site.function)
    ]


def test_every_dynamodb_expression_in_the_repository_is_parameterised() -> None:
    source = ADAPTER.read_text()
    sites = list(expression_sites(ast.parse(source)))

    # Every kind of expression the repository writes is present, so the walk saw them all.
    assert {site.key for site in sites} >= {
        "ConditionExpression",
        "UpdateExpression",
        "KeyConditionExpression",
    }
    assert unsafe_sites(source) == []


def test_only_the_repository_writes_dynamodb_expressions() -> None:
    # Every read and write of the table (the METRICS item's too) goes through the repository,
    # so the walk above covers each expression the product sends.
    writers = {
        path.relative_to(ROOT).as_posix()
        for folder in MACHINE_SIDE
        for path in (ROOT / folder).rglob("*.py")
        if any(expression_sites(ast.parse(path.read_text())))
    }
    assert writers == {ADAPTER.relative_to(ROOT).as_posix()}


@pytest.mark.parametrize(
    "source",
    [
        (
            "def claim(client, upload_id):\n"
            '    client.put_item(ConditionExpression=f"pk = {upload_id}")\n'
        ),
        "def query(client, pk):\n    client.query(KeyConditionExpression='pk = ' + pk)\n",
        "def update(title):\n    return {'UpdateExpression': 'SET title = ' + repr(title)}\n",
        (
            "def update(force, value):\n"
            "    return {'ConditionExpression': None if force else f'#a = {value}'}\n"
        ),
        (
            "def _update(key, condition=None):\n"
            "    request = {}\n"
            "    request['ConditionExpression'] = condition\n"
            "    return request\n"
            "def mark(upload_id):\n"
            "    return _update({}, condition=f'#id = {upload_id}')\n"
        ),
    ],
    ids=[
        "f-string-value",
        "concatenated-value",
        "repr-of-value",
        "value-in-a-conditional",
        "value-through-a-parameter",
    ],
)
def test_checker_catches_a_value_pasted_into_an_expression(source: str) -> None:
    assert unsafe_sites(source) != []
