"""A speed fix for moto's DynamoDB transactions, which the local cloud needs under load.

moto (pinned, 5.2.5) backs up a table before a ``TransactWriteItems`` by deep-copying all of
it, once per item of the transaction that names the table, to put it back if the transaction
is cancelled. With a few hundred workflows in the table each transaction then takes seconds,
and DynamoDB requests are taken one at a time (``albumreg.cloud.moto_fixes.serialized_dynamodb``),
so everything waits. A transaction can only change the items it names: backing up those items
alone, and putting them back on cancellation, gives the same outcome at a cost that does not
grow with the table ("Amazon DynamoDB Transactions: How it works", DynamoDB Developer Guide:
all or nothing). Nothing AWS does is changed.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from moto.dynamodb import models as dynamodb_models
from moto.dynamodb.exceptions import MockValidationException
from moto.dynamodb.models import DynamoDBBackend
from moto.dynamodb.models.dynamo_type import DynamoType, Item
from moto.dynamodb.models.table import Table

Backup = tuple[Table, DynamoType, DynamoType | None, Item | None]


class _TablesByReference:
    """Stands in for the ``copy`` module during one transaction: tables are not copied.

    moto's own rollback then puts back the very table it already has (a no-op), and the item
    backups of ``one_backup_per_item`` restore what the transaction changed. Anything else is
    copied as before.
    """

    @staticmethod
    def deepcopy(value: Any, memo: dict[int, Any] | None = None) -> Any:
        """The table itself, or a deep copy of anything else."""
        return value if isinstance(value, Table) else copy.deepcopy(value, memo)


def _backups(backend: DynamoDBBackend, transact_items: list[dict[str, Any]]) -> list[Backup]:
    """A copy of every item the transaction names, as it is now (None when absent)."""
    backups: list[Backup] = []
    for entry in transact_items:
        _, operation = next(iter(entry.items()))
        table = backend.tables.get(operation.get("TableName", ""))
        if table is None:
            continue  # moto reports the missing table itself
        names = (table.hash_key_attr, table.range_key_attr)
        key = operation.get("Key") or {
            name: value for name, value in operation.get("Item", {}).items() if name in names
        }
        try:
            hash_value, range_value = backend.get_keys_value(table, key)
        except MockValidationException:  # moto rejects the transaction itself, changing nothing
            continue
        current = table.get_item(hash_value, range_value)
        backups.append((table, hash_value, range_value, copy.deepcopy(current)))
    return backups


def _restore(backups: list[Backup]) -> None:
    """Put every named item back as it was before the transaction."""
    for table, hash_value, range_value, item in reversed(backups):
        if range_value is None:
            if item is None:
                table.items.pop(hash_value, None)
            else:
                table.items[hash_value] = item  # type: ignore[assignment]
        elif item is None:
            table.items.get(hash_value, {}).pop(range_value, None)
        else:
            table.items[hash_value][range_value] = item


@contextmanager
def one_backup_per_item() -> Iterator[None]:
    """Back up only the items a ``TransactWriteItems`` names, until the block ends."""
    original = DynamoDBBackend.transact_write_items

    def transact_write_items(self: DynamoDBBackend, transact_items: list[dict[str, Any]]) -> None:
        backups = _backups(self, transact_items)
        names = vars(dynamodb_models)  # the module's globals, where its ``copy`` is looked up
        names["copy"] = _TablesByReference()
        try:
            original(self, transact_items)
        except BaseException:
            _restore(backups)
            raise
        finally:
            names["copy"] = copy

    DynamoDBBackend.transact_write_items = transact_write_items  # type: ignore[method-assign]
    try:
        yield
    finally:
        DynamoDBBackend.transact_write_items = original  # type: ignore[method-assign]
