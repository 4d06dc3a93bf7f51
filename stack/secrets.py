"""Pricing token component: the API token as a Secrets Manager secret, from a Pulumi secret.

Pulumi only. Functions receive the secret's ARN (``PRICING_TOKEN_SECRET``) and read the value
at run time; the token itself never becomes an environment variable.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_aws as aws


@dataclass(frozen=True)
class PricingSecretArgs:
    """Arguments of ``PricingSecret``.

    Attributes:
        token: the pricing API token (a Pulumi secret: encrypted in the stack's state).
    """

    token: pulumi.Input[str]


class PricingSecret(pulumi.ComponentResource):
    """One secret holding the bare token, read by the price functions only."""

    arn: pulumi.Output[str]

    def __init__(
        self, name: str, args: PricingSecretArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("albumreg:index:PricingSecret", name, None, opts)
        secret = aws.secretsmanager.Secret(
            name,
            description="Pricing API token of the album registration workflows",
            # Deleted at once on `pulumi destroy`, so a new stack can be created right after;
            # the value lives in the stack config, so there is nothing to recover.
            recovery_window_in_days=0,
            opts=pulumi.ResourceOptions(parent=self),
        )
        aws.secretsmanager.SecretVersion(
            f"{name}-value",
            secret_id=secret.id,
            secret_string=pulumi.Output.secret(args.token),
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.arn = secret.arn
        self.register_outputs({"arn": self.arn})
