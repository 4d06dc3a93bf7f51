"""``albumreg doctor``: preflight checks, one line each with its fix; exit 0 only if all pass.

Against the running local cloud it checks the local endpoints and resources; otherwise (or with
``--aws``) it checks what a deploy and a first run on AWS need (``albumreg.cli.preflight``).
"""

from __future__ import annotations

import argparse
import os
from typing import Any

import boto3

from albumreg.cli.preflight import Check, aws_checks, local_checks, pricing_token, pulumi_config
from albumreg.client.connect import connect
from albumreg.client.target import TargetError, load_target
from albumreg.tools.price_list import PRICE_LIST_REGION
from handlers.config import DEFAULT_PRICING_BASE_URL, DEFAULT_VISION_MODEL


def register(subparsers: Any) -> None:
    """Add the ``doctor`` subcommand."""
    parser = subparsers.add_parser(
        "doctor", help="check what a deploy or a run needs, one line per check with its fix"
    )
    parser.add_argument(
        "--aws", action="store_true", help="check AWS even when a local cloud is running"
    )
    parser.add_argument("--region", help="AWS Region (default: the stack's, then the SDK's)")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """Print every check; 0 when all passed, 1 otherwise."""
    checks = list(_aws(args) if args.aws else _detect(args))
    for check in checks:
        print(check.line())
    failed = sum(not check.ok for check in checks)
    print(f"{len(checks) - failed} passed, {failed} failed")
    return 1 if failed or not checks else 0


def _detect(args: argparse.Namespace) -> list[Check]:
    try:
        target = load_target()
    except TargetError:
        return list(_aws(args))
    if not target.is_local:
        return list(_aws(args))
    # Unprobed: whether the local cloud answers is the first check, reported with its fix.
    return list(local_checks(target, connect(target=target, probe=False).client))


def _aws(args: argparse.Namespace) -> list[Check]:
    region = args.region or pulumi_config("aws:region") or boto3.session.Session().region_name
    session = boto3.session.Session(region_name=region)
    make: Any = session.client

    def client_for(service: str) -> Any:
        # The Price List Query API answers from one Region for every Region.
        return make(service, region_name=PRICE_LIST_REGION if service == "pricing" else region)

    return list(
        aws_checks(
            client_for,
            region or "",
            vision_model_id=pulumi_config("visionModelId") or DEFAULT_VISION_MODEL,
            pricing_base_url=os.environ.get("PRICING_BASE_URL")
            or pulumi_config("pricingBaseUrl")
            or DEFAULT_PRICING_BASE_URL,
            pricing_token=pricing_token(),
            load_target=load_target,
        )
    )
