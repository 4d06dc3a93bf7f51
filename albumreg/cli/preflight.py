"""Preflight checks behind ``albumreg doctor``: what a first deploy or a first run needs.

Each check returns one ``Check`` (passed or not, what it saw, and the fix). Local-cloud checks
talk to the endpoints in the env file; AWS checks take boto3 clients from a factory, so tests
run them against botocore's ``Stubber`` and the local cloud alike. Local-only code: the CLI.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError

from albumreg.client.target import STACK_OUTPUTS, Target, TargetError, check_reachable
from albumreg.tools.price_list import PriceListReader
from handlers.adapters.pricing.discogs import DiscogsClient
from handlers.adapters.pricing.transport import Token, Transport
from handlers.config import USER_AGENT
from handlers.domain.cost import snapshot
from handlers.domain.errors import PricingError
from stack.iam import GEOGRAPHIC_PROFILE_PREFIXES

ClientFactory = Callable[[str], Any]
"""``service name -> boto3 client`` (``boto3.client`` with a Region, or a test's stubs)."""

TOKEN_VARIABLE = "ALBUMREG_PRICING_TOKEN"  # noqa: S105 - a variable name, not a secret


@dataclass(frozen=True)
class Check:
    """One preflight result: what was checked, what was seen, and how to fix a failure."""

    name: str
    ok: bool
    detail: str
    fix: str = ""

    def line(self) -> str:
        """``PASS name: detail`` or ``FAIL name: detail -> fix: ...``."""
        status = "PASS" if self.ok else "FAIL"
        text = f"{status} {self.name}: {self.detail}"
        return text if self.ok else f"{text} -> fix: {self.fix}"


def _error(exc: Exception) -> str:
    if isinstance(exc, ClientError):
        error = exc.response.get("Error", {})
        return f"{error.get('Code', 'Error')}: {error.get('Message', '')}".rstrip(": ")
    return f"{type(exc).__name__}: {exc}"


# --- the local cloud ---------------------------------------------------------------------------


def local_checks(target: Target, client: ClientFactory) -> Iterator[Check]:
    """The local cloud's endpoints answer and hold the resources the CLI uses."""
    try:
        check_reachable(target)
        yield Check("local AWS emulator", True, target.endpoints["AWS_ENDPOINT_URL_S3"])
    except TargetError as exc:
        yield Check("local AWS emulator", False, str(exc), "start it with `albumreg local`")
        return
    yield _plane_check(target, client)
    yield from target_checks(target, client)


def _plane_check(target: Target, client: ClientFactory) -> Check:
    """The durable plane answers a real API call (a probe of ``/`` would log a routing error)."""
    url = target.endpoints.get("AWS_ENDPOINT_URL_LAMBDA", "")
    name = "local durable execution plane"
    fix = "restart `albumreg local` (the durable plane runs inside it)"
    if not url.startswith("http://127.") and not url.startswith("http://localhost"):
        return Check(name, False, f"no loopback endpoint in the env file ({url!r})", fix)
    try:
        client("lambda").list_durable_executions_by_function(
            FunctionName=target.durable_function, MaxItems=1
        )
    except (BotoCoreError, ClientError) as exc:
        return Check(name, False, f"{url} does not answer ({exc})", fix)
    return Check(name, True, url)


# --- AWS ---------------------------------------------------------------------------------------


def credentials_check(client: ClientFactory, region: str) -> Check:
    """Credentials resolve and STS accepts them, in a named Region."""
    name = "AWS credentials and Region"
    try:
        identity = client("sts").get_caller_identity()
    except NoCredentialsError:
        return Check(
            name,
            False,
            "no credentials found",
            "`aws configure sso` (or set AWS_PROFILE / AWS_ACCESS_KEY_ID) and try again",
        )
    except (ClientError, BotoCoreError) as exc:
        return Check(name, False, _error(exc), "refresh the credentials (`aws sso login`)")
    if not region:
        return Check(name, False, "no Region set", "`pulumi config set aws:region us-east-2`")
    return Check(name, True, f"{identity['Arn']} (account {identity['Account']}) in {region}")


def durable_region_check(client: ClientFactory, region: str) -> Check:
    """Lambda durable functions are sold in the Region (snapshot, else the Price List API)."""
    name = f"durable functions in {region}"
    fix = "choose a Region that offers them, e.g. `pulumi config set aws:region us-east-2`"
    if region in snapshot().durable_regions:
        return Check(name, True, "listed in the rate snapshot's durable Regions")
    try:
        read = PriceListReader(client("pricing")).read(region)
    except (ClientError, BotoCoreError) as exc:
        return Check(name, False, f"not in the snapshot; Price List: {_error(exc)}", fix)
    if read.durable_listed:
        return Check(name, True, "the Price List API sells durable operations there")
    return Check(name, False, "neither the snapshot nor the Price List API lists them", fix)


def foundation_model(model_id: str) -> str:
    """The foundation model behind a model id or a cross-Region inference profile id."""
    prefix, _, model = model_id.partition(".")
    return model if prefix in GEOGRAPHIC_PROFILE_PREFIXES and model else model_id


def bedrock_check(client: ClientFactory, model_id: str) -> Check:
    """The account may invoke the model in this Region (Bedrock's availability API)."""
    name = f"Bedrock access to {model_id}"
    fix = (
        "open Amazon Bedrock > Model access in this Region and request the model, or "
        "`pulumi config set visionModelId <a model you can use>`"
    )
    try:
        found = client("bedrock").get_foundation_model_availability(
            modelId=foundation_model(model_id)
        )
    except (ClientError, BotoCoreError) as exc:
        return Check(name, False, _error(exc), fix)
    problems = [
        f"{field}={found.get(field)}"
        for field, good in (
            ("authorizationStatus", "AUTHORIZED"),
            ("entitlementAvailability", "AVAILABLE"),
            ("regionAvailability", "AVAILABLE"),
        )
        if found.get(field) != good
    ]
    if problems:
        return Check(name, False, ", ".join(problems), fix)
    return Check(name, True, "authorized, entitled and available in the Region")


def pricing_token_check(base_url: str, token: str | None) -> Check:
    """The pricing API accepts the token: one search, as a price agent makes."""
    name = f"pricing token accepted by {base_url}"
    if not token:
        return Check(
            name,
            False,
            "no token to try",
            f"export {TOKEN_VARIABLE}=<token> or `pulumi config set --secret pricingToken <token>`",
        )
    try:
        transport = Transport(base_url=base_url, token=Token(token), user_agent=USER_AGENT)
        client = DiscogsClient(transport)
        client.search(client.meter(), query="Abbey Road")
    except (PricingError, ValueError) as exc:
        return Check(
            name,
            False,
            str(exc),
            "create a personal access token at https://www.discogs.com/settings/developers",
        )
    return Check(name, True, "a search answered")


def stack_outputs_check(load: Callable[[], Target]) -> tuple[Check, Target | None]:
    """The deployed stack's outputs name every resource the CLI uses.

    ``load_target`` already refuses outputs without the bucket, table and state machine.
    """
    name = "stack outputs"
    try:
        target = load()
    except TargetError as exc:
        return Check(name, False, str(exc), "`pulumi up` in this directory"), None
    if target.is_local:
        fix = "stop `albumreg local` (its env file comes first) or use --aws"
        return Check(name, False, f"{target.source} is the local cloud", fix), None
    if not target.durable_function:
        return Check(name, False, "no durableFunctionArn output", "`pulumi up`"), None
    return Check(name, True, f"{len(STACK_OUTPUTS)} outputs from {target.source}"), target


def target_checks(target: Target, client: ClientFactory) -> Iterator[Check]:
    """Every resource of the target answers: bucket, table, state machine, durable function."""
    calls: list[tuple[str, str, Callable[[], Any]]] = [
        ("upload bucket", target.bucket, lambda: client("s3").head_bucket(Bucket=target.bucket)),
        (
            "workflow table",
            target.table_name,
            lambda: client("dynamodb").describe_table(TableName=target.table_name),
        ),
        (
            "state machine",
            target.state_machine_arn,
            lambda: client("stepfunctions").describe_state_machine(
                stateMachineArn=target.state_machine_arn
            ),
        ),
    ]
    if not target.is_local:
        # The local plane serves durable executions only; on AWS the alias must exist.
        calls.append(
            (
                "durable function",
                target.durable_function,
                lambda: client("lambda").get_function_configuration(
                    FunctionName=target.durable_function
                ),
            )
        )
    fix = "`albumreg local` again" if target.is_local else "`pulumi up` (or check the Region)"
    for name, resource, call in calls:
        try:
            call()
        except (ClientError, BotoCoreError) as exc:
            yield Check(name, False, f"{resource}: {_error(exc)}", fix)
        else:
            yield Check(name, True, resource)


def aws_checks(
    client: ClientFactory,
    region: str,
    *,
    vision_model_id: str,
    pricing_base_url: str,
    pricing_token: str | None,
    load_target: Callable[[], Target],
) -> Iterator[Check]:
    """Everything a first deploy and a first run on AWS need, in the order to fix them."""
    credentials = credentials_check(client, region)
    yield credentials
    if not credentials.ok:
        return
    yield durable_region_check(client, region)
    yield bedrock_check(client, vision_model_id)
    yield pricing_token_check(pricing_base_url, pricing_token)
    outputs, target = stack_outputs_check(load_target)
    yield outputs
    if target is not None:
        yield from target_checks(target, client)


def pulumi_config(key: str) -> str | None:
    """``pulumi config get KEY`` of the current stack, or None without the CLI or the key."""
    pulumi = shutil.which("pulumi")
    if pulumi is None:
        return None
    try:
        completed = subprocess.run(  # noqa: S603 - fixed arguments, no shell
            [pulumi, "config", "get", key], capture_output=True, text=True, timeout=60, check=True
        )
    except subprocess.SubprocessError:
        return None
    return completed.stdout.strip() or None


def pricing_token() -> str | None:
    """The token to try: ``$ALBUMREG_PRICING_TOKEN``, else the stack's secret config."""
    return os.environ.get(TOKEN_VARIABLE) or pulumi_config("pricingToken")
