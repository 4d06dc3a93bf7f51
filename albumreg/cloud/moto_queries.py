"""DynamoDB Query in moto at a cost that does not grow with the table's size, as on AWS.

A DynamoDB Query reads one partition ("Query operations in DynamoDB", Amazon DynamoDB Developer
Guide), so its latency does not depend on how many items the table holds. moto's (pinned,
5.2.5) ``Table.query`` starts from ``Table.all_items()``, which sorts every item of the table
by primary key, then keeps the partition's items and sorts those again by the keys of the
table or index queried. The first sort decides nothing: the second orders by a key that is
unique per item. With 1,000 uploads per pattern (17,000 items) it made each Query take about
0.35 s, which is what the dashboard's page times measured. ``partition_queries`` skips that
first sort inside a Query only, so results and their order are unchanged; Scan keeps moto's
sorted order, which its pagination relies on. Used by the local cloud and
``albumreg bench-dashboard``; Lambda code never imports this module.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from moto.dynamodb.models.table import Table

_IN_QUERY = threading.local()
"""Per thread: moto's server handles requests in threads, each Query on its own."""


def _unsorted_items(table: Table) -> list[Any]:
    """Every item of the table, in storage order."""
    if table.range_key_attr:
        return [item for partition in table.items.values() for item in partition.values()]
    return list(table.items.values())


@contextmanager
def partition_queries() -> Iterator[None]:
    """Skip moto's whole-table sort inside ``Table.query`` until the block ends.

    Patches the model class, so it covers ``mock_aws`` and a ``ThreadedMotoServer`` in this
    process alike; restores both methods on exit.
    """
    original_query = Table.query
    original_all_items = Table.all_items

    def all_items(self: Table) -> list[Any]:
        if getattr(_IN_QUERY, "active", False):
            return _unsorted_items(self)
        return original_all_items(self)

    def query(self: Table, *args: Any, **kwargs: Any) -> Any:
        _IN_QUERY.active = True
        try:
            return original_query(self, *args, **kwargs)
        finally:
            _IN_QUERY.active = False

    Table.all_items = all_items  # type: ignore[method-assign]
    Table.query = query  # type: ignore[method-assign]
    try:
        yield
    finally:
        Table.all_items = original_all_items  # type: ignore[method-assign]
        Table.query = original_query  # type: ignore[method-assign]
