"""What each Lambda function of the stack does, which is all its role may do.

Read off ``handlers.domain.workflow`` and the repository methods each step calls. Pure: no
Pulumi. The durable function runs every step, so it gets the union of the task functions.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import reduce

from stack.asl import TASK_FUNCTIONS
from stack.iam import FunctionAccess

PUT_ITEM = "dynamodb:PutItem"
UPDATE_ITEM = "dynamodb:UpdateItem"

TASK_ACCESS: Mapping[str, FunctionAccess] = {
    # claim_upload (conditional put), save_extraction (put + update in one transaction),
    # mark_status (update) when the upload is rejected.
    "extract-albums": FunctionAccess(
        read_uploads=True, vision=True, table_actions=frozenset({PUT_ITEM, UPDATE_ITEM})
    ),
    # open_review: one conditional put of the REVIEW item with the task token.
    "request-review": FunctionAccess(table_actions=frozenset({PUT_ITEM})),
    # resolve_review: a conditional update of the REVIEW item.
    "record-review-timeout": FunctionAccess(table_actions=frozenset({UPDATE_ITEM})),
    # mark_status: update of META.
    "record-rejection": FunctionAccess(table_actions=frozenset({UPDATE_ITEM})),
    # The price agent never touches the table: only the token and the pricing API.
    "price-album": FunctionAccess(pricing=True),
    # store_results: puts (albums, metrics) and updates (META, REVIEW) in one transaction.
    "store-results": FunctionAccess(table_actions=frozenset({PUT_ITEM, UPDATE_ITEM})),
    # mark_status: update of META to FAILED.
    "record-failure": FunctionAccess(table_actions=frozenset({UPDATE_ITEM})),
}
"""Access of each Step Functions task function, keyed by its logical name in ``TASK_FUNCTIONS``."""

DURABLE_ACCESS: FunctionAccess = reduce(
    FunctionAccess.__or__, (TASK_ACCESS[task.name] for task in TASK_FUNCTIONS), FunctionAccess()
)
"""The durable function runs all the steps in one function, so it needs all of the above."""
