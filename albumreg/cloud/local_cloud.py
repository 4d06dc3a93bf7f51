"""The local cloud: the whole product on 127.0.0.1, one process and its Lambda workers, no AWS.

Started by ``albumreg local`` (foreground) and ``albumreg demo`` (in the demo's process):

- a moto server (S3, DynamoDB, EventBridge, SQS, CloudWatch, IAM, Lambda, Step Functions with
  real execution of the one ASL file);
- the local Lambda service (``albumreg.cloud.lambdas``): every function invocation, the Step
  Functions tasks' and the durable handler's, runs in a worker process, cold then warm, as on
  Lambda;
- the durable execution control plane, whose handler checkpoints to it over loopback HTTP;
- the local pricing API with its fault knobs;
- the resources the Pulumi stack declares (same table schema, bucket with EventBridge
  notifications, the same event pattern, the state machine from the same ASL file);
- the upload router, which does what the EventBridge rule's two targets do on AWS;
- status-change events of every execution that ends, delivered to the collector function
  (``albumreg.cloud.status_events``), which writes the workflow's METRICS item as on AWS.

Everything it emulates is listed in the README. It writes ``AWS_ENDPOINT_URL_<SERVICE>`` lines
and resource names to an env file that the CLI and the dashboard read.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import socket
from collections.abc import Iterator, Mapping
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Self

import boto3
from moto.core.base_backend import BackendDict
from moto.server import ThreadedMotoServer

from albumreg.client.target import DEFAULT_ENV_FILE, Target
from albumreg.cloud import sfn_runner
from albumreg.cloud.durable_plane import DurablePlane
from albumreg.cloud.fake_discogs import Knobs, PricingApiServer
from albumreg.cloud.lambdas.durable import WorkerInvoker
from albumreg.cloud.lambdas.recognition import RecognizerKnobs
from albumreg.cloud.lambdas.runtime import durable_function, lambda_service, worker_environment
from albumreg.cloud.lambdas.service import LambdaService, ServiceSettings
from albumreg.cloud.moto_fixes import (
    namespaced_metric_queries,
    serialized_dynamodb,
    single_use_task_tokens,
    stable_heap_keys,
    untracked_dynamodb_models,
)
from albumreg.cloud.moto_queries import partition_queries
from albumreg.cloud.moto_speed import one_backup_per_item
from albumreg.cloud.persistence import DataFolder, Restored
from albumreg.cloud.router import EventRouter
from albumreg.cloud.status_events import StatusWatcher, Watched, status_events
from handlers.adapters.table_schema import create_table_request
from handlers.config import Settings
from handlers.domain.events import UPLOAD_PREFIX, upload_event_pattern
from handlers.domain.policy import DEFAULT_REVIEW_TIMEOUT_SECONDS, DURABLE_EXECUTION_MARGIN_SECONDS
from handlers.wiring import Dependencies

logger = logging.getLogger(__name__)

REGION = "us-east-1"
BUCKET = "albumreg-local-uploads"
TABLE = "albumreg-local"
QUEUE = "albumreg-local-upload-events"
RULE = "albumreg-local-uploads"
DURABLE_FUNCTION = "albumreg-local-durable"
LOCAL_PRICING_TOKEN = "local-sample-token"  # noqa: S105 - the local API's own sample token

# Service ids as botocore spells them in AWS_ENDPOINT_URL_<ID>; all but Lambda are moto's.
MOTO_SERVICES = (
    "S3",
    "DYNAMODB",
    "SFN",
    "EVENTBRIDGE",
    "SQS",
    "CLOUDWATCH",
    "CLOUDWATCH_LOGS",
    "IAM",
    "STS",
    "SECRETS_MANAGER",
)


class PortInUseError(RuntimeError):
    """A port the local cloud needs is taken; the message says which and what to do."""


@dataclass(frozen=True)
class CloudOptions:
    """How to start the local cloud.

    Attributes:
        host: address every server binds; loopback by default and by design.
        port_base: moto on this port, the durable plane on +1, the pricing API on +2;
            0 picks free ports (tests).
        review_timeout_seconds: how long workflows wait for a person.
        pricing: faults and delays of the local pricing API.
        env_file: where the endpoints are written for the CLI and the dashboard.
        lambdas: bounds of the local Lambda service's worker processes.
        recognition: the benchmark's recognizer knobs (replay, latency), applied in workers.
        data_dir: the folder the cloud keeps its state in across restarts (see
            ``albumreg.cloud.persistence``); None keeps everything in memory (tests, benchmarks).
        fresh: start with an empty data folder.
    """

    host: str = "127.0.0.1"
    port_base: int = 4566
    review_timeout_seconds: int = DEFAULT_REVIEW_TIMEOUT_SECONDS
    pricing: Knobs = field(default_factory=Knobs)
    env_file: Path = DEFAULT_ENV_FILE
    lambdas: ServiceSettings = field(default_factory=ServiceSettings)
    recognition: RecognizerKnobs = field(default_factory=RecognizerKnobs)
    data_dir: Path | None = None
    fresh: bool = False

    def port(self, offset: int) -> int:
        """The port of the ``offset``-th server, or 0 for an ephemeral one."""
        return self.port_base + offset if self.port_base else 0


def check_port_free(host: str, port: int) -> None:
    """Fail before starting anything when ``port`` is taken (moto would hang, not fail).

    The probe binds as the servers do: werkzeug's (moto), ``http.server``'s (the durable plane,
    the pricing API) and Streamlit's all set ``SO_REUSEADDR``, so connections of a previous run
    still in TIME_WAIT do not count as taken; a listening socket still does. Not on Windows,
    where that option lets a socket take a port another one listens on.
    """
    if port == 0:
        return
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        if os.name != "nt":
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as exc:
            raise PortInUseError(
                f"port {port} on {host} is in use (is another `albumreg local` running?); "
                "stop it, or choose other ports with --port-base"
            ) from exc


@contextlib.contextmanager
def _environment(values: Mapping[str, str]) -> Iterator[None]:
    """Set variables for the cloud's lifetime and put the old ones back after."""
    saved = {name: os.environ.get(name) for name in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for name, old in saved.items():
            if old is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = old


class LocalCloud:
    """Start with ``with LocalCloud(options) as cloud:``; everything stops on exit."""

    def __init__(self, options: CloudOptions | None = None) -> None:
        self.options = options or CloudOptions()
        self._stack = ExitStack()
        self._target: Target | None = None
        self._dependencies: Dependencies | None = None
        self.pricing: PricingApiServer | None = None
        self.durable: DurablePlane | None = None
        self.lambdas: LambdaService | None = None
        self.state_machine_arn = ""
        self.router: EventRouter | None = None
        self.status_watcher: StatusWatcher | None = None
        self.data: DataFolder | None = None
        self.restored: Restored | None = None

    def start(self) -> Self:
        """Start every server, provision the resources, write the env file."""
        options = self.options
        for offset in range(3):
            check_port_free(options.host, options.port(offset))
        try:
            self._start(options)
        except BaseException:
            self._stack.close()
            raise
        return self

    def _start(self, options: CloudOptions) -> None:
        # moto's werkzeug logs every request at INFO, and here both patterns' agents share one
        # process's HTTP pool (on AWS each function has its own): neither is news to a person.
        logging.getLogger("werkzeug").setLevel(logging.ERROR)
        logging.getLogger("urllib3.connectionpool").setLevel(logging.ERROR)
        moto = ThreadedMotoServer(options.host, options.port(0), verbose=False)
        # moto keeps its backends in this process, past the server's life: forget them once
        # the server stopped, so the next cloud started here begins as empty as a new process.
        self._stack.callback(BackendDict.reset)
        moto.start()
        self._stack.callback(moto.stop)
        if options.data_dir is not None:
            # Entered before every server that writes: on stop it saves after they stopped.
            self.data = self._stack.enter_context(DataFolder(options.data_dir, fresh=options.fresh))
        moto_url = f"http://{options.host}:{moto.get_host_and_port()[1]}"

        self.pricing = PricingApiServer(options.host, options.port(2), knobs=options.pricing)
        endpoints = {f"AWS_ENDPOINT_URL_{service}": moto_url for service in MOTO_SERVICES}
        endpoints["AWS_ENDPOINT_URL_LAMBDA"] = "pending"
        self._stack.enter_context(
            _environment(
                {
                    "MOTO_PORT": str(moto.get_host_and_port()[1]),
                    "AWS_ACCESS_KEY_ID": "local",
                    "AWS_SECRET_ACCESS_KEY": "local",
                    "AWS_DEFAULT_REGION": REGION,
                    **endpoints,
                }
            )
        )
        sfn_runner.enable_execution(moto_url)
        self.lambdas = self._stack.enter_context(
            lambda_service(
                options.lambdas, options.recognition, logs_endpoint=moto_url, region=REGION
            )
        )
        self._stack.enter_context(sfn_runner.worker_invokes(self.lambdas))
        # Where moto and AWS differ in ways the workflow relies on (see albumreg.cloud.moto_fixes).
        self._stack.enter_context(serialized_dynamodb())
        self._stack.enter_context(one_backup_per_item())
        self._stack.enter_context(untracked_dynamodb_models())
        self._stack.enter_context(single_use_task_tokens())
        self._stack.enter_context(stable_heap_keys())
        self._stack.enter_context(partition_queries())
        self._stack.enter_context(namespaced_metric_queries())
        self._stack.enter_context(self.pricing)
        settings = Settings(
            table_name=TABLE,
            upload_prefix=UPLOAD_PREFIX,
            review_timeout_seconds=options.review_timeout_seconds,
            pricing_base_url=self.pricing.url,
            pricing_token=LOCAL_PRICING_TOKEN,
            metrics_mode="api",
        )
        self.durable = DurablePlane(
            WorkerInvoker(self.lambdas, durable_function(DURABLE_FUNCTION, settings, REGION)),
            DURABLE_FUNCTION,
            host=options.host,
            port=options.port(1),
            store=self.data.durable_store() if self.data else None,
            max_concurrent_invocations=options.lambdas.max_per_function,
        )
        self._stack.enter_context(self.durable)
        os.environ["AWS_ENDPOINT_URL_LAMBDA"] = self.durable.url
        endpoints["AWS_ENDPOINT_URL_LAMBDA"] = self.durable.url
        # Workers reach moto and the plane as handlers reach AWS: through these variables.
        self.lambdas.configure(worker_environment(endpoints))
        session = boto3.session.Session()
        self._dependencies = Dependencies(settings, session=session)
        self.state_machine_arn = self._provision(session, moto_url, settings)
        self.router = self._start_router(session)
        # Every execution that ends is measured by the collector function, as on AWS.
        watched = Watched(REGION, self.state_machine_arn, DURABLE_FUNCTION, "albumreg-local-sf")
        self.status_watcher = self._stack.enter_context(
            status_events(session, moto_url, self.durable.url, settings, watched)
        )
        self._target = Target(
            bucket=BUCKET,
            table_name=TABLE,
            state_machine_arn=self.state_machine_arn,
            durable_function=DURABLE_FUNCTION,
            region=REGION,
            endpoints=endpoints,
            source="albumreg local",
        )
        self._write_env_file(self._target)

    @property
    def target(self) -> Target:
        """Names and endpoints of the running cloud."""
        if self._target is None:
            raise RuntimeError("the local cloud is not started")
        return self._target

    @property
    def dependencies(self) -> Dependencies:
        """Adapters for this process (the CLI side); handlers build their own in workers."""
        if self._dependencies is None:
            raise RuntimeError("the local cloud is not started")
        return self._dependencies

    def _provision(self, session: boto3.session.Session, moto_url: str, settings: Settings) -> str:
        """The resources the stack declares, created the way the stack's components do."""
        session.client("dynamodb").create_table(**create_table_request(settings.table_name))
        s3 = session.client("s3")
        s3.create_bucket(Bucket=BUCKET)
        if self.data is not None:
            # Before the bucket notifies EventBridge: a restored photo must not start workflows.
            self.restored = self.data.restore(
                session, table=settings.table_name, bucket=BUCKET, durable_function=DURABLE_FUNCTION
            )
        s3.put_bucket_notification_configuration(
            Bucket=BUCKET, NotificationConfiguration={"EventBridgeConfiguration": {}}
        )
        sqs = session.client("sqs")
        queue_url = sqs.create_queue(QueueName=QUEUE)["QueueUrl"]
        queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])[
            "Attributes"
        ]["QueueArn"]
        events = session.client("events")
        events.put_rule(
            Name=RULE, EventPattern=json.dumps(upload_event_pattern(BUCKET, settings.upload_prefix))
        )
        events.put_targets(Rule=RULE, Targets=[{"Id": "upload-router", "Arn": queue_arn}])
        self._queue_url = queue_url
        deployment = sfn_runner.deploy(
            session,
            prefix="albumreg-local-sf",
            endpoint_url=moto_url,
            environment=settings.to_env(),
            memory_mb=settings.lambda_memory_mb,
            agent=settings.pricing_agent,
        )
        return deployment.state_machine_arn

    def _start_router(self, session: boto3.session.Session) -> EventRouter:
        sfn = session.client("stepfunctions")
        if self.durable is None:
            raise RuntimeError("the durable plane must start before the router")
        durable = self.durable
        timeout = self.options.review_timeout_seconds + DURABLE_EXECUTION_MARGIN_SECONDS
        machine = self.state_machine_arn

        def start_step_functions(event: Mapping[str, Any], delivery_id: str) -> None:
            sfn_runner.start(sfn, machine, event, delivery_id[:12])

        def start_durable(event: Mapping[str, Any], delivery_id: str) -> None:
            name = sfn_runner.execution_name(event, delivery_id[:12])
            durable.start_execution(name, dict(event), timeout)

        router = EventRouter(
            session.client("sqs"), self._queue_url, [start_step_functions, start_durable]
        )
        router.start()
        self._stack.callback(router.stop)
        return router

    def _write_env_file(self, target: Target) -> None:
        path = self.options.env_file
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(
            "# written by albumreg local; removed when it stops\n" + target.as_env_lines()
        )
        self._stack.callback(path.unlink, missing_ok=True)

    def stop(self) -> None:
        """Stop everything started, in reverse order; safe to call twice."""
        self._stack.close()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()
