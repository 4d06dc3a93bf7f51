"""The single-table repository: uploads, albums, reviews and metrics of both patterns.

Keys are ``<pattern>#UPLOAD#<upload_id>`` / ``META | ALBUM#<slot> | REVIEW | METRICS``, and a
status index (``<pattern>#UPLOAD#<status>`` or ``<pattern>#REVIEW#<state>``, sorted by time)
serves every listing with a Query. Writes that must happen once are conditional. The happy
path costs four write requests: claim, extraction, review, final results. The writes a workflow
step makes raise a throttling or 5xx fault left after the client's own retry as
``TransientError`` (``handlers.adapters.aws_errors``), so the orchestrator retries the step.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer
from botocore.exceptions import ClientError

from handlers.adapters.aws_errors import transient_aws_errors
from handlers.adapters.table_schema import (
    PARTITION_KEY,
    SORT_KEY,
    STATUS_INDEX,
    STATUS_INDEX_PARTITION_KEY,
    STATUS_INDEX_SORT_KEY,
)
from handlers.domain.errors import (
    DuplicateUploadError,
    ReviewAlreadyResolvedError,
    ReviewNotFoundError,
    UploadNotFoundError,
)
from handlers.domain.models import (
    Album,
    Extraction,
    PriceEstimate,
    ReviewResult,
    ReviewState,
    Upload,
    WorkflowStatus,
)
from handlers.domain.records import ReviewRecord, StoredAlbum, UploadRecord, UploadSummary
from handlers.domain.tenant import Pattern
from handlers.domain.workflow_metrics import RESULT_KEYS, WorkflowMetrics

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient


BATCH_GET_MAX_KEYS = 100
"""DynamoDB's limit of keys in one BatchGetItem request."""

BATCH_GET_ROUNDS = 3
"""Requests per batch of keys, when DynamoDB returns some unprocessed (throttled) keys."""

META = "META"
REVIEW = "REVIEW"
METRICS = "METRICS"
ALBUM_PREFIX = "ALBUM#"

_SUMMARY_FIELDS = tuple(UploadSummary.model_fields)
"""What a listing reads of each META item (the rest is the photo's and the extraction's)."""

_serializer = TypeSerializer()
_deserializer = TypeDeserializer()


def upload_pk(pattern: Pattern, upload_id: str) -> str:
    """Partition key of one upload within one pattern."""
    return f"{pattern.value}#UPLOAD#{upload_id}"


def _status_key(pattern: Pattern, status: WorkflowStatus) -> str:
    return f"{pattern.value}#UPLOAD#{status.value}"


def _review_key(pattern: Pattern, state: ReviewState) -> str:
    return f"{pattern.value}#REVIEW#{state.value}"


def _iso(moment: datetime) -> str:
    return moment.isoformat(timespec="microseconds")


def _plain(value: Any) -> Any:
    """Make a value storable: floats become Decimal (DynamoDB refuses floats), dates ISO text.

    None is dropped.
    """
    if isinstance(value, float):
        return Decimal(str(round(value, 6)))
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items() if v is not None}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


def _marshal(values: Mapping[str, Any]) -> dict[str, Any]:
    return {k: _serializer.serialize(v) for k, v in _plain(dict(values)).items()}


def unmarshal(item: Mapping[str, Any]) -> dict[str, Any]:
    """An item in attribute-value form as Python values (numbers as Decimal)."""
    return {k: _deserializer.deserialize(v) for k, v in item.items()}


def _update(
    key: Mapping[str, str], values: Mapping[str, Any], condition: str | None = None
) -> dict[str, Any]:
    """An UpdateItem request that sets ``values``; every name and value is parameterised.

    A None value is left out rather than stored, so an update never erases with nulls.
    """
    values = {name: value for name, value in values.items() if value is not None}
    names = {f"#a{i}": name for i, name in enumerate(values)}
    placeholders = {f":v{i}": value for i, value in enumerate(values.values())}
    update: dict[str, Any] = {
        "Key": _marshal(key),
        "UpdateExpression": "SET " + ", ".join(f"#a{i} = :v{i}" for i in range(len(values))),
        "ExpressionAttributeNames": names,
        "ExpressionAttributeValues": _marshal(placeholders),
    }
    if condition:
        update["ConditionExpression"] = condition
    return update


def _album_values(album: Album) -> dict[str, Any]:
    return album.model_dump(mode="python", exclude_none=True)


class DynamoDbAlbumRepository:
    """``AlbumRepository`` on one DynamoDB table; the client is injected, never created here."""

    def __init__(self, client: DynamoDBClient, table_name: str) -> None:
        self._client = client
        self._table = table_name
        self.read_units = 0.0
        self.write_units = 0.0

    def _meter(self, response: Mapping[str, Any]) -> None:
        """Add the consumed capacity a response reports: the cost model bills these units."""
        consumed = response.get("ConsumedCapacity")
        for entry in consumed if isinstance(consumed, list) else [consumed] if consumed else []:
            self.read_units += float(entry.get("ReadCapacityUnits", 0) or 0)
            self.write_units += float(entry.get("WriteCapacityUnits", 0) or 0)
            if "ReadCapacityUnits" not in entry and "WriteCapacityUnits" not in entry:
                self.write_units += float(entry.get("CapacityUnits", 0) or 0)

    def _key(self, pattern: Pattern, upload_id: str, sort_key: str) -> dict[str, str]:
        return {PARTITION_KEY: upload_pk(pattern, upload_id), SORT_KEY: sort_key}

    def _transact(self, items: list[dict[str, Any]]) -> None:
        response = self._client.transact_write_items(
            TransactItems=items,  # type: ignore[arg-type]
            ReturnConsumedCapacity="TOTAL",
        )
        self._meter(response)

    @transient_aws_errors
    def claim_upload(
        self, pattern: Pattern, upload: Upload, execution_id: str, now: datetime
    ) -> None:
        """Create the upload's META item once; the same execution may claim again on retry."""
        item = {
            **self._key(pattern, upload.upload_id, META),
            "pattern": pattern.value,
            "upload_id": upload.upload_id,
            "bucket": upload.bucket,
            "key": upload.key,
            "size": upload.size,
            "etag": upload.etag,
            "version_id": upload.version_id,
            "received_at": _iso(upload.received_at),
            "updated_at": _iso(now),
            "status": WorkflowStatus.RECEIVED.value,
            "execution_id": execution_id,
            STATUS_INDEX_PARTITION_KEY: _status_key(pattern, WorkflowStatus.RECEIVED),
            STATUS_INDEX_SORT_KEY: f"{_iso(upload.received_at)}#{upload.upload_id}",
        }
        try:
            response = self._client.put_item(
                TableName=self._table,
                Item=_marshal(item),
                ConditionExpression="attribute_not_exists(#pk) OR #execution = :execution",
                ExpressionAttributeNames={"#pk": PARTITION_KEY, "#execution": "execution_id"},
                ExpressionAttributeValues={":execution": {"S": execution_id}},
                ReturnConsumedCapacity="TOTAL",
            )
        except ClientError as exc:
            if _code(exc) == "ConditionalCheckFailedException":
                raise DuplicateUploadError(
                    f"upload {upload.upload_id} is already handled by another {pattern.value} "
                    "execution"
                ) from exc
            raise
        self._meter(response)

    @transient_aws_errors
    def save_extraction(
        self, pattern: Pattern, upload_id: str, extraction: Extraction, now: datetime
    ) -> None:
        """One transaction: six albums and the move to ``PENDING_REVIEW``."""
        meta = _update(
            self._key(pattern, upload_id, META),
            {
                "status": WorkflowStatus.PENDING_REVIEW.value,
                STATUS_INDEX_PARTITION_KEY: _status_key(pattern, WorkflowStatus.PENDING_REVIEW),
                "updated_at": _iso(now),
                "engine": extraction.engine,
                "vision_input_tokens": extraction.usage.input_tokens,
                "vision_output_tokens": extraction.usage.output_tokens,
            },
            condition="attribute_exists(pk)",
        )
        items: list[dict[str, Any]] = [{"Update": {"TableName": self._table, **meta}}]
        for album in extraction.albums:
            values = {
                **self._key(pattern, upload_id, f"{ALBUM_PREFIX}{album.slot}"),
                **_album_values(album),
                "extracted_year": album.year,
            }
            items.append({"Put": {"TableName": self._table, "Item": _marshal(values)}})
        self._transact(items)

    @transient_aws_errors
    def open_review(
        self,
        pattern: Pattern,
        upload_id: str,
        token: str,
        albums: Sequence[Album],
        requested_at: datetime,
        expires_at: datetime,
    ) -> None:
        """Store the token while the review is open; a closed review is never reopened.

        A retried request may carry a new token (Step Functions issues one per task attempt),
        and only the latest can resume the workflow, so an OPEN review takes the new one. A
        second execution never gets here: the upload claim stops it first.
        """
        item = {
            **self._key(pattern, upload_id, REVIEW),
            "pattern": pattern.value,
            "upload_id": upload_id,
            "token": token,
            "state": ReviewState.OPEN.value,
            "albums": [_album_values(album) for album in albums],
            "requested_at": _iso(requested_at),
            "expires_at": _iso(expires_at),
            STATUS_INDEX_PARTITION_KEY: _review_key(pattern, ReviewState.OPEN),
            STATUS_INDEX_SORT_KEY: f"{_iso(requested_at)}#{upload_id}",
        }
        try:
            response = self._client.put_item(
                TableName=self._table,
                Item=_marshal(item),
                ConditionExpression="attribute_not_exists(#pk) OR #state = :open",
                ExpressionAttributeNames={"#pk": PARTITION_KEY, "#state": "state"},
                ExpressionAttributeValues={":open": {"S": ReviewState.OPEN.value}},
                ReturnConsumedCapacity="TOTAL",
            )
        except ClientError as exc:
            if _code(exc) == "ConditionalCheckFailedException":
                raise ReviewAlreadyResolvedError(
                    f"the review of upload {upload_id} in {pattern.value} is already closed"
                ) from exc
            raise
        self._meter(response)

    def get_review(self, pattern: Pattern, upload_id: str) -> ReviewRecord | None:
        """The review item, or None when the workflow never reached the human step."""
        response = self._client.get_item(
            TableName=self._table,
            Key=_marshal(self._key(pattern, upload_id, REVIEW)),
            ConsistentRead=True,
            ReturnConsumedCapacity="TOTAL",
        )
        self._meter(response)
        item = response.get("Item")
        return _review(unmarshal(item)) if item else None

    @transient_aws_errors
    def resolve_review(
        self, pattern: Pattern, upload_id: str, state: ReviewState, now: datetime
    ) -> ReviewRecord:
        """Close an OPEN review; anything else is refused with the state it is in."""
        request = _update(
            self._key(pattern, upload_id, REVIEW),
            {
                "state": state.value,
                "resolved_at": _iso(now),
                STATUS_INDEX_PARTITION_KEY: _review_key(pattern, state),
            },
            condition="#a0 = :open",
        )
        request["ExpressionAttributeValues"][":open"] = {"S": ReviewState.OPEN.value}
        try:
            response = self._client.update_item(
                TableName=self._table,
                ReturnValues="ALL_NEW",
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
                ReturnConsumedCapacity="TOTAL",
                **request,
            )
        except ClientError as exc:
            if _code(exc) != "ConditionalCheckFailedException":
                raise
            old: Any = exc.response.get("Item")
            if not old:
                raise ReviewNotFoundError(
                    f"no review for upload {upload_id} in {pattern.value}"
                ) from exc
            current = unmarshal(old).get("state", "?")
            raise ReviewAlreadyResolvedError(
                f"review of upload {upload_id} in {pattern.value} is already {current}"
            ) from exc
        self._meter(response)
        return _review(unmarshal(response["Attributes"]))

    @transient_aws_errors
    def store_results(
        self,
        pattern: Pattern,
        upload_id: str,
        review: ReviewResult,
        estimates: Sequence[PriceEstimate],
        metrics: WorkflowMetrics,
        now: datetime,
    ) -> None:
        """One transaction: reviewed albums with prices, review outcome, metrics, COMPLETED.

        Of ``metrics`` only the results (``RESULT_KEYS``) are written: the collector adds the
        rest once the execution has ended (``record_metrics``).
        """
        by_slot = {estimate.slot: estimate for estimate in estimates}
        items: list[dict[str, Any]] = []
        meta = _update(
            self._key(pattern, upload_id, META),
            {
                "status": WorkflowStatus.COMPLETED.value,
                STATUS_INDEX_PARTITION_KEY: _status_key(pattern, WorkflowStatus.COMPLETED),
                "updated_at": _iso(now),
            },
            condition="attribute_exists(pk)",
        )
        items.append({"Update": {"TableName": self._table, **meta}})
        outcome = _update(
            self._key(pattern, upload_id, REVIEW),
            {
                "state": review.outcome.value,
                "resolved_at": _iso(review.decided_at),
                "reviewer": review.reviewer,
                STATUS_INDEX_PARTITION_KEY: _review_key(pattern, review.outcome),
            },
        )
        items.append({"Update": {"TableName": self._table, **outcome}})
        for album in review.albums:
            values: dict[str, Any] = {
                "title": album.title,
                "artist": album.artist,
                "year": album.year,
                "unrecognized": album.unrecognized,
                "confidence": album.confidence,
            }
            estimate = by_slot.get(album.slot)
            if estimate is not None:
                values |= {
                    "price": estimate.amount,
                    "currency": estimate.currency,
                    "price_confidence": estimate.confidence,
                    "price_source": estimate.source,
                    "release_id": estimate.release_id,
                    "price_error": estimate.error,
                }
            update = _update(self._key(pattern, upload_id, f"{ALBUM_PREFIX}{album.slot}"), values)
            items.append({"Update": {"TableName": self._table, **update}})
        results = metrics.model_dump(include=set(RESULT_KEYS), exclude_none=True)
        metrics_item = {**self._key(pattern, upload_id, METRICS), **results}
        items.append({"Put": {"TableName": self._table, "Item": _marshal(metrics_item)}})
        self._transact(items)

    @transient_aws_errors
    def mark_status(
        self,
        pattern: Pattern,
        upload_id: str,
        status: WorkflowStatus,
        now: datetime,
        *,
        error: str | None = None,
        cause: str | None = None,
    ) -> None:
        """Move an existing upload to ``status``, keeping the reason a person will read."""
        values: dict[str, Any] = {
            "status": status.value,
            STATUS_INDEX_PARTITION_KEY: _status_key(pattern, status),
            "updated_at": _iso(now),
        }
        if error is not None:
            values["error"] = error[:200]
        if cause is not None:
            values["cause"] = cause[:2000]
        request = _update(
            self._key(pattern, upload_id, META), values, condition="attribute_exists(pk)"
        )
        try:
            response = self._client.update_item(
                TableName=self._table, ReturnConsumedCapacity="TOTAL", **request
            )
        except ClientError as exc:
            if _code(exc) == "ConditionalCheckFailedException":
                raise UploadNotFoundError(f"no upload {upload_id} in {pattern.value}") from exc
            raise
        self._meter(response)

    def get_upload(self, pattern: Pattern, upload_id: str) -> UploadRecord | None:
        """Every item of one upload in a single Query."""
        items = {key: unmarshal(item) for key, item in self.raw_items(pattern, upload_id).items()}
        if META not in items:
            return None
        albums = [
            StoredAlbum.model_validate(item)
            for sort_key, item in sorted(items.items())
            if sort_key.startswith(ALBUM_PREFIX)
        ]
        return UploadRecord(
            summary=_summary(items[META]),
            albums=sorted(albums, key=lambda album: album.slot),
            review=_review(items[REVIEW]) if REVIEW in items else None,
            metrics=_metrics(items[METRICS]) if METRICS in items else None,
        )

    def raw_items(self, pattern: Pattern, upload_id: str) -> dict[str, dict[str, Any]]:
        """The upload's items by sort key, in attribute-value form, in one consistent Query.

        The metrics collector sizes them as DynamoDB does (the write units it bills), so they
        come back as stored rather than as records.
        """
        response = self._client.query(
            TableName=self._table,
            KeyConditionExpression="#pk = :pk",
            ExpressionAttributeNames={"#pk": PARTITION_KEY},
            ExpressionAttributeValues={":pk": {"S": upload_pk(pattern, upload_id)}},
            ConsistentRead=True,
            ReturnConsumedCapacity="TOTAL",
        )
        self._meter(response)
        return {str(item[SORT_KEY]["S"]): dict(item) for item in response.get("Items", [])}

    def record_metrics(
        self, pattern: Pattern, upload_id: str, metrics: WorkflowMetrics, *, force: bool = False
    ) -> WorkflowMetrics | None:
        """Add the collector's measurements to the METRICS item, once; first collector wins.

        The update is conditional on ``attribute_not_exists(collected_at)`` unless ``force``
        (a recomputation), creates the item for a workflow that stored no results (rejected,
        failed), and keeps the results ``store_results`` wrote: ``RESULT_KEYS`` of ``metrics``
        are not written.

        Returns:
            The whole item as stored after the update, or None when another collector had
            written first (the conditional update failed).
        """
        values = metrics.model_dump(exclude=set(RESULT_KEYS), exclude_none=True)
        request = _update(
            self._key(pattern, upload_id, METRICS),
            values,
            condition=None if force else "attribute_not_exists(collected_at)",
        )
        try:
            response = self._client.update_item(
                TableName=self._table,
                ReturnValues="ALL_NEW",
                ReturnConsumedCapacity="TOTAL",
                **request,
            )
        except ClientError as exc:
            if _code(exc) == "ConditionalCheckFailedException":
                return None
            raise
        self._meter(response)
        return _metrics(unmarshal(response["Attributes"]))

    def _query_index(
        self, partition: str, limit: int, attributes: Sequence[str] = ()
    ) -> list[dict[str, Any]]:
        """Newest first; only ``attributes`` when given (fewer bytes back, same read units)."""
        aliases = {f"#p{i}": name for i, name in enumerate(attributes)}
        projection = (
            {"ProjectionExpression": ", ".join(f"#p{i}" for i in range(len(attributes)))}
            if attributes
            else {}
        )
        response = self._client.query(
            TableName=self._table,
            IndexName=STATUS_INDEX,
            KeyConditionExpression="#pk = :pk",
            ExpressionAttributeNames={"#pk": STATUS_INDEX_PARTITION_KEY, **aliases},
            ExpressionAttributeValues={":pk": {"S": partition}},
            ScanIndexForward=False,
            Limit=limit,
            ReturnConsumedCapacity="TOTAL",
            **projection,  # type: ignore[arg-type]
        )
        self._meter(response)
        return [unmarshal(item) for item in response.get("Items", [])]

    def list_uploads(
        self, pattern: Pattern, status: WorkflowStatus, limit: int = 50
    ) -> list[UploadSummary]:
        """Newest first, from the status index: the summary's attributes only."""
        partition = _status_key(pattern, status)
        return [_summary(item) for item in self._query_index(partition, limit, _SUMMARY_FIELDS)]

    def list_open_reviews(self, pattern: Pattern, limit: int = 50) -> list[ReviewRecord]:
        """Open reviews, newest first, from the status index."""
        partition = _review_key(pattern, ReviewState.OPEN)
        return [_review(item) for item in self._query_index(partition, limit)]

    # --- dashboard reads ---
    def get_summary(self, pattern: Pattern, upload_id: str) -> UploadSummary | None:
        """The META item alone, in one GetItem: what a review card needs to find the photo."""
        response = self._client.get_item(
            TableName=self._table,
            Key=_marshal(self._key(pattern, upload_id, META)),
            ReturnConsumedCapacity="TOTAL",
        )
        self._meter(response)
        item = response.get("Item")
        return _summary(unmarshal(item)) if item else None

    def get_metrics(
        self, pattern: Pattern, upload_ids: Sequence[str]
    ) -> dict[str, WorkflowMetrics]:
        """METRICS items of many uploads in BatchGetItem requests: one per hundred uploads.

        The dashboard reads the timings of its newest executions this way instead of one Query
        per upload. Keys DynamoDB leaves unprocessed are asked again a bounded number of times;
        any still missing are left out, as if the upload had stored no metrics.
        """
        ids = list(dict.fromkeys(upload_ids))
        found: dict[str, WorkflowMetrics] = {}
        for start in range(0, len(ids), BATCH_GET_MAX_KEYS):
            keys = [
                _marshal(self._key(pattern, i, METRICS))
                for i in ids[start : start + BATCH_GET_MAX_KEYS]
            ]
            request: Mapping[str, Any] = {self._table: {"Keys": keys}}
            for _ in range(BATCH_GET_ROUNDS):
                response = self._client.batch_get_item(
                    RequestItems=request,
                    ReturnConsumedCapacity="TOTAL",
                )
                self._meter(response)
                for item in map(unmarshal, response.get("Responses", {}).get(self._table, [])):
                    upload_id = str(item[PARTITION_KEY]).rsplit("#", 1)[-1]
                    found[upload_id] = _metrics(item)
                request = response.get("UnprocessedKeys") or {}
                if not request:
                    break
        return found


def _code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))


def _summary(item: Mapping[str, Any]) -> UploadSummary:
    return UploadSummary.model_validate(item)


def _review(item: Mapping[str, Any]) -> ReviewRecord:
    return ReviewRecord.model_validate(item)


def _metrics(item: Mapping[str, Any]) -> WorkflowMetrics:
    return WorkflowMetrics.model_validate(item)
