"""The local cloud's data folder: what it holds survives a stop, a restart and a crash.

moto keeps everything in memory, so the local cloud snapshots its state into a folder
(``.albumreg/data`` by default) and puts it back on the next start:

- the table's items and the bucket's photos, read and written through the public APIs (Scan,
  BatchWriteItem, ListObjectsV2, GetObject, PutObject), which hold across moto versions;
- CloudWatch metric datapoints, read from moto's backend (no API returns the raw datapoints)
  and written back with PutMetricData;
- durable executions and their histories, kept by the durable testing SDK's own SQLite store,
  which writes through on every change.

Snapshots are taken every few seconds while something changed, and once more on stop, so a
crash loses at most the last few seconds. Step Functions executions are not kept (moto runs
them as threads of its interpreter). A workflow that had not finished when the cloud stopped
cannot go on after a restart, in either orchestrator here: it is marked FAILED with the error
``Interrupted`` and the reason, its open review is closed as timed out (nobody can answer it
any more), and its durable execution is stopped. On AWS both orchestrators would carry on.
Must not be imported by Lambda code.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import json
import logging
import os
import shutil
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Self

from aws_durable_execution_sdk_python_testing.stores.sqlite import SQLiteExecutionStore

from handlers.adapters.dynamodb import DynamoDbAlbumRepository
from handlers.adapters.table_schema import PARTITION_KEY, SORT_KEY
from handlers.domain.errors import AlbumRegError
from handlers.domain.models import FINAL_STATUSES, ReviewState, WorkflowStatus
from handlers.domain.tenant import Pattern

if TYPE_CHECKING:
    import boto3
    from mypy_boto3_cloudwatch import CloudWatchClient
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_lambda import LambdaClient
    from mypy_boto3_s3 import S3Client

try:  # POSIX: the lock goes away with the process, even after a crash
    import fcntl
except ImportError:  # pragma: no cover - Windows keeps no lock
    fcntl = None  # type: ignore[assignment]

logger = logging.getLogger(__name__)

DEFAULT_DATA_DIR = Path(".albumreg") / "data"
DATA_DIR_VARIABLE = "ALBUMREG_DATA_DIR"
"""Overrides the default folder (the end-to-end tests give each local cloud its own)."""
SAVE_INTERVAL_SECONDS = 3.0
"""How often the snapshot is refreshed: at most this much is lost in a crash."""
INTERRUPTED_ERROR = "Interrupted"
FORMAT = 1
MARKER = "albumreg-data.json"
LOCK = ".lock"
DURABLE_STORE = "durable.sqlite3"
BATCH_WRITE_MAX_ITEMS = 25
"""BatchWriteItem takes at most 25 requests (DynamoDB API Reference, BatchWriteItem)."""
PUT_METRIC_DATA_MAX_ITEMS = 1000
"""PutMetricData takes at most 1,000 metrics (CloudWatch API Reference, PutMetricData)."""
_ENTRIES = ("dynamodb", "s3", "cloudwatch", DURABLE_STORE, f"{DURABLE_STORE}-wal", MARKER)


class DataFolderError(RuntimeError):
    """The data folder cannot be used; the message says why and what to do."""


def default_data_dir() -> Path:
    """``$ALBUMREG_DATA_DIR``, else ``.albumreg/data`` in the working directory."""
    configured = os.environ.get(DATA_DIR_VARIABLE)
    return Path(configured) if configured else DEFAULT_DATA_DIR


@dataclass(frozen=True)
class Interrupted:
    """One workflow that had not finished when the local cloud last stopped."""

    pattern: Pattern
    upload_id: str
    status: WorkflowStatus


@dataclass(frozen=True)
class Restored:
    """What a start found in the data folder."""

    items: int = 0
    objects: int = 0
    datapoints: int = 0
    saved_at: str | None = None
    interrupted: list[Interrupted] = field(default_factory=list)


def _write_atomically(path: Path, data: bytes) -> None:
    """Replace ``path`` in one step: a crash mid-write leaves the previous snapshot whole."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.partial")
    partial.write_bytes(data)
    partial.replace(path)


def _encode(value: object) -> object:
    """JSON for the binary attribute values of DynamoDB items (B, BS)."""
    if isinstance(value, bytes | bytearray):
        return {"__bytes__": base64.b64encode(value).decode()}
    raise TypeError(f"cannot store {type(value).__name__}")


def _decode(value: dict[str, Any]) -> object:
    return base64.b64decode(value["__bytes__"]) if set(value) == {"__bytes__"} else value


def _dumps(value: object) -> bytes:
    return json.dumps(value, default=_encode, sort_keys=True).encode()


def _loads(data: bytes) -> Any:
    return json.loads(data, object_hook=_decode)


def _iso(moment: object) -> str:
    """A moto timestamp (datetime, ISO text or epoch seconds) as ISO 8601 in UTC."""
    if isinstance(moment, datetime):
        return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).isoformat()
    if isinstance(moment, int | float):
        return datetime.fromtimestamp(moment, UTC).isoformat()
    parsed = datetime.fromisoformat(str(moment).replace("Z", "+00:00"))
    return (parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)).isoformat()


def cloudwatch_datapoints() -> list[dict[str, Any]]:
    """Every datapoint put into moto's CloudWatch in this process, as PutMetricData entries.

    The one place that reads moto's internals: GetMetricData returns aggregates, never the
    datapoints themselves, so there is no public API to copy them out.
    """
    # Imported here: only a local cloud with a data folder needs moto's CloudWatch models.
    from moto.cloudwatch.models import (  # noqa: PLC0415
        MetricAggregatedDatum,
        MetricDatum,
        cloudwatch_backends,
    )

    found: list[dict[str, Any]] = []
    for _account, region, backend in cloudwatch_backends.iter_backends():
        for datum in list(backend.metric_data):  # type: ignore[attr-defined]
            entry: dict[str, Any] = {
                "Region": region,
                "Namespace": datum.namespace,
                "MetricName": datum.name,
                "Dimensions": [{"Name": d.name, "Value": d.value} for d in datum.dimensions],
                "Timestamp": _iso(datum.timestamp),
            }
            if datum.unit:
                entry["Unit"] = datum.unit
            if isinstance(datum, MetricDatum):
                entry["Value"] = datum.value
            elif isinstance(datum, MetricAggregatedDatum):
                entry["StatisticValues"] = {
                    "SampleCount": datum.sample_count,
                    "Sum": datum.sum,
                    "Minimum": datum.min,
                    "Maximum": datum.max,
                }
            else:
                continue
            found.append(entry)
    return found


_READS = ("Get", "BatchGet", "TransactGet", "Query", "Scan", "Describe", "List")
"""DynamoDB actions that change nothing (by name prefix)."""


def _count_dynamodb_writes(on_write: Callable[[], None]) -> Callable[[], None]:
    """Call ``on_write`` for each DynamoDB request that may change data; returns the undo.

    Wraps moto's request handler, as ``albumreg.cloud.moto_fixes`` does: there is no public API that
    says whether a table changed since a moment, and a Scan of a large table is costly.
    """
    # Imported here: only a local cloud with a data folder patches moto's DynamoDB handler.
    from moto.dynamodb.responses import DynamoHandler  # noqa: PLC0415

    original = DynamoHandler.call_action

    def call_action(self: DynamoHandler) -> Any:
        try:
            return original(self)
        finally:
            # Counted once applied: a snapshot that began before it is taken again next time.
            if not self._get_action().startswith(_READS):
                on_write()

    DynamoHandler.call_action = call_action  # type: ignore[method-assign]

    def undo() -> None:
        DynamoHandler.call_action = original  # type: ignore[method-assign]

    return undo


class DataFolder:
    """The folder one local cloud keeps its state in; locked while that cloud runs.

    Use as a context manager around the cloud's life: entering takes the lock (and empties the
    folder when ``fresh``), ``restore`` puts the saved state into the freshly provisioned
    resources and starts the periodic snapshots, and leaving saves once more and unlocks.

    Args:
        path: the folder; created when missing.
        fresh: start empty (what the folder held is deleted).
        interval_seconds: time between snapshots.
    """

    def __init__(
        self, path: Path, *, fresh: bool = False, interval_seconds: float = SAVE_INTERVAL_SECONDS
    ) -> None:
        self.path = path
        self.fresh = fresh
        self.interval_seconds = interval_seconds
        self._lock_file: Any = None
        self._saver: threading.Thread | None = None
        self._stopping = threading.Event()
        self._save_lock = threading.Lock()
        self._save: Callable[[], None] | None = None
        self._digests: dict[str, str] = {}
        self._dynamodb_writes = 0
        self._unhook: Callable[[], None] = lambda: None

    # --- lifetime -------------------------------------------------------------------------

    def __enter__(self) -> Self:
        self.path.mkdir(parents=True, exist_ok=True)
        self._lock()
        try:
            if self.fresh:
                self._empty()
            elif any(self.path.iterdir()) and not self._is_ours():
                raise DataFolderError(
                    f"{self.path} holds files that are not an albumreg data folder; "
                    "choose another with --data-dir"
                )
        except BaseException:
            self._unlock()
            raise
        # Counted from here on: entered before the cloud's own moto patches, left after them.
        self._unhook = _count_dynamodb_writes(self._dynamodb_written)
        return self

    def __exit__(self, *exc_info: object) -> None:
        try:
            if self._saver is not None:
                self._stopping.set()
                self._saver.join(timeout=60)
                self.save()
        finally:
            self._unhook()
            self._unlock()

    def _dynamodb_written(self) -> None:
        self._dynamodb_writes += 1

    def _is_ours(self) -> bool:
        names = {entry.name for entry in self.path.iterdir()} - {LOCK}
        return not names or MARKER in names

    def _empty(self) -> None:
        if not self._is_ours():
            raise DataFolderError(
                f"{self.path} is not an albumreg data folder; --fresh deletes nothing there"
            )
        for name in _ENTRIES:
            entry = self.path / name
            if entry.is_dir():
                shutil.rmtree(entry)
            else:
                entry.unlink(missing_ok=True)
        (self.path / f"{DURABLE_STORE}-shm").unlink(missing_ok=True)

    def _lock(self) -> None:
        if fcntl is None:  # pragma: no cover - Windows
            return
        handle = (self.path / LOCK).open("a+")
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            handle.seek(0)
            owner = handle.read().strip() or "?"
            handle.close()
            raise DataFolderError(
                f"{self.path} is in use by another local cloud (process {owner}); stop it, or "
                "choose another folder with --data-dir"
            ) from exc
        handle.seek(0)
        handle.truncate()
        handle.write(str(os.getpid()))
        handle.flush()
        self._lock_file = handle

    def _unlock(self) -> None:
        if self._lock_file is not None:
            self._lock_file.close()  # closing releases the flock
            self._lock_file = None

    # --- durable executions ---------------------------------------------------------------

    def durable_store(self) -> SQLiteExecutionStore:
        """The durable plane's store: every execution and its history, written through."""
        return SQLiteExecutionStore.create_and_initialize(self.path / DURABLE_STORE)

    # --- restore --------------------------------------------------------------------------

    def restore(
        self,
        session: boto3.session.Session,
        *,
        table: str,
        bucket: str,
        durable_function: str,
    ) -> Restored:
        """Put the saved state back, close what cannot go on, then keep snapshotting.

        Call after the table and bucket exist and before the bucket notifies EventBridge (a
        restored photo must not start its workflows again), with the durable plane running.
        """
        dynamodb: DynamoDBClient = session.client("dynamodb")
        s3: S3Client = session.client("s3")
        marker = self._read(MARKER) or {}
        items = self._restore_table(dynamodb, table)
        objects = self._restore_bucket(s3, bucket)
        datapoints = self._restore_metrics(session)
        saved_at = marker.get("saved_at")
        interrupted = self._interrupt(
            DynamoDbAlbumRepository(dynamodb, table),
            items,
            session.client("lambda"),
            durable_function,
            saved_at,
        )

        table_saved_at: int | None = None

        def save() -> None:
            nonlocal table_saved_at
            changed = False
            # A Scan reads (and moto serialises) the whole table: only after a write.
            writes = self._dynamodb_writes
            if writes != table_saved_at:
                changed |= self._save_table(dynamodb, table)
                table_saved_at = writes
            changed |= self._save_bucket(s3, bucket)
            changed |= self._write("cloudwatch/metrics.json", cloudwatch_datapoints())
            if changed:
                now = datetime.now(UTC).isoformat()
                self._write(MARKER, {"format": FORMAT, "saved_at": now})

        self._save = save
        self.save()
        self._saver = threading.Thread(target=self._keep_saving, name="data-folder", daemon=True)
        self._saver.start()
        return Restored(len(items), objects, datapoints, saved_at, interrupted)

    def _read(self, name: str) -> Any:
        path = self.path / name
        return _loads(path.read_bytes()) if path.is_file() else None

    def _write(self, name: str, value: object) -> bool:
        """Write ``value`` unless the file already holds it; True when written."""
        data = _dumps(value)
        digest = hashlib.sha256(data).hexdigest()
        if self._digests.get(name) == digest and (self.path / name).is_file():
            return False
        _write_atomically(self.path / name, data)
        self._digests[name] = digest
        return True

    def _restore_table(self, dynamodb: DynamoDBClient, table: str) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = self._read(f"dynamodb/{table}.json") or []
        for start in range(0, len(items), BATCH_WRITE_MAX_ITEMS):
            requests: Mapping[str, Any] = {
                table: [
                    {"PutRequest": {"Item": item}}
                    for item in items[start : start + BATCH_WRITE_MAX_ITEMS]
                ]
            }
            while requests:
                response = dynamodb.batch_write_item(RequestItems=requests)
                requests = response.get("UnprocessedItems") or {}
        return items

    def _restore_bucket(self, s3: S3Client, bucket: str) -> int:
        manifest: dict[str, dict[str, Any]] = self._read(f"s3/{bucket}/manifest.json") or {}
        for key, entry in manifest.items():
            body = (self.path / "s3" / bucket / "objects" / entry["file"]).read_bytes()
            s3.put_object(
                Bucket=bucket,
                Key=key,
                Body=body,
                ContentType=entry.get("content_type") or "binary/octet-stream",
                Metadata=entry.get("metadata") or {},
            )
        return len(manifest)

    def _restore_metrics(self, session: boto3.session.Session) -> int:
        datapoints: list[dict[str, Any]] = self._read("cloudwatch/metrics.json") or []
        groups: dict[tuple[str, str], list[dict[str, Any]]] = {}
        for entry in datapoints:
            datum = {k: v for k, v in entry.items() if k not in ("Region", "Namespace")}
            datum["Timestamp"] = datetime.fromisoformat(entry["Timestamp"])
            groups.setdefault((entry["Region"], entry["Namespace"]), []).append(datum)
        for (region, namespace), data in groups.items():
            cloudwatch: CloudWatchClient = session.client("cloudwatch", region_name=region)
            for start in range(0, len(data), PUT_METRIC_DATA_MAX_ITEMS):
                cloudwatch.put_metric_data(
                    Namespace=namespace,
                    MetricData=data[start : start + PUT_METRIC_DATA_MAX_ITEMS],  # type: ignore[arg-type]
                )
        return len(datapoints)

    def _interrupt(
        self,
        repo: DynamoDbAlbumRepository,
        items: Sequence[Mapping[str, Any]],
        lambda_client: LambdaClient,
        durable_function: str,
        saved_at: str | None,
    ) -> list[Interrupted]:
        """Mark every workflow that had not finished as FAILED (Interrupted), with the reason."""
        now = datetime.now(UTC)
        interrupted = []
        for item in items:
            if item.get(SORT_KEY, {}).get("S") != "META":
                continue
            status = WorkflowStatus(item["status"]["S"])
            if status in FINAL_STATUSES:
                continue
            pattern = Pattern(item["pattern"]["S"])
            upload_id = item["upload_id"]["S"]
            cause = interruption_cause(status, saved_at)
            review = repo.get_review(pattern, upload_id)
            if review is not None and review.state is ReviewState.OPEN:
                with contextlib.suppress(AlbumRegError):
                    repo.resolve_review(pattern, upload_id, ReviewState.TIMED_OUT, now)
            repo.mark_status(
                pattern, upload_id, WorkflowStatus.FAILED, now, error=INTERRUPTED_ERROR, cause=cause
            )
            interrupted.append(Interrupted(pattern, upload_id, status))
        self._stop_durable_executions(lambda_client, durable_function, saved_at)
        return interrupted

    @staticmethod
    def _stop_durable_executions(
        lambda_client: LambdaClient, function: str, saved_at: str | None
    ) -> None:
        """Stop the durable executions left RUNNING: no timer or callback will wake them."""
        pages = lambda_client.get_paginator("list_durable_executions_by_function").paginate(
            FunctionName=function, Statuses=["RUNNING"]
        )
        # The emulated plane may list every status: filtered here as well.
        arns = [
            run["DurableExecutionArn"]
            for page in pages
            for run in page["DurableExecutions"]
            if run["Status"] == "RUNNING"
        ]
        for arn in arns:
            lambda_client.stop_durable_execution(
                DurableExecutionArn=arn,
                Error={
                    "ErrorType": INTERRUPTED_ERROR,
                    "ErrorMessage": interruption_cause(None, saved_at),
                },
            )

    # --- save -----------------------------------------------------------------------------

    def save(self) -> None:
        """Write a snapshot of whatever changed since the last one (no-op before ``restore``)."""
        if self._save is None:
            return
        with self._save_lock:
            self._save()

    def _keep_saving(self) -> None:
        while not self._stopping.wait(self.interval_seconds):
            try:
                self.save()
            except Exception:  # a failed snapshot must not stop the cloud; the next one retries
                logger.warning("could not save the local cloud's state", exc_info=True)

    def _save_table(self, dynamodb: DynamoDBClient, table: str) -> bool:
        items: list[dict[str, Any]] = []
        for page in dynamodb.get_paginator("scan").paginate(TableName=table, ConsistentRead=True):
            items += page.get("Items", [])
        items.sort(key=lambda item: (item[PARTITION_KEY]["S"], item[SORT_KEY]["S"]))
        return self._write(f"dynamodb/{table}.json", items)

    def _save_bucket(self, s3: S3Client, bucket: str) -> bool:
        name = f"s3/{bucket}/manifest.json"
        folder = self.path / "s3" / bucket / "objects"
        manifest: dict[str, dict[str, Any]] = self._read(name) or {}
        current: dict[str, dict[str, Any]] = {}
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket):
            for listed in page.get("Contents", []):
                key, etag = listed["Key"], listed["ETag"]
                known = manifest.get(key)
                if known is not None and known["etag"] == etag:
                    current[key] = known
                    continue
                got = s3.get_object(Bucket=bucket, Key=key)
                file = hashlib.sha256(key.encode()).hexdigest()
                _write_atomically(folder / file, got["Body"].read())
                current[key] = {
                    "file": file,
                    "etag": etag,
                    "content_type": got.get("ContentType"),
                    "metadata": got.get("Metadata", {}),
                }
        for key in manifest.keys() - current.keys():
            (folder / manifest[key]["file"]).unlink(missing_ok=True)
        return self._write(name, current)


def interruption_cause(status: WorkflowStatus | None, saved_at: str | None) -> str:
    """The reason a person reads for a workflow the local cloud's stop cut short."""
    when = f" (state last saved {saved_at[:19].replace('T', ' ')} UTC)" if saved_at else ""
    doing = f" while the workflow was {status.value}" if status else ""
    return (
        f"the local cloud stopped{doing}{when}; its emulated orchestrators cannot carry a "
        "run across a restart (on AWS it would go on). Upload the photo again under another "
        "name to run it."
    )
