"""How this stack's EventBridge rules deliver: one retry policy, one kind of dead-letter queue.

Pulumi only. The upload rule (``stack.events``) and the two status rules (``stack.collector``)
deliver the same way: EventBridge retries a failed delivery with ``RETRY_POLICY``, then puts
the event into an encrypted queue that only those rules may write to, kept for a person to
replay. Resources are created under the caller's component with the caller's name prefix, so
their names and URNs are the component's own.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

import pulumi
import pulumi_aws as aws

from handlers.domain.policy import (
    DEAD_LETTER_RETENTION_SECONDS,
    EVENT_DELIVERY_MAX_AGE_SECONDS,
    EVENT_DELIVERY_MAX_RETRIES,
)
from stack.iam import dead_letter_queue_policy

RETRY_POLICY = aws.cloudwatch.EventTargetRetryPolicyArgs(
    maximum_retry_attempts=EVENT_DELIVERY_MAX_RETRIES,
    maximum_event_age_in_seconds=EVENT_DELIVERY_MAX_AGE_SECONDS,
)


def dead_letter_queue(
    name: str, rule_arns: Sequence[pulumi.Output[str]], sid: str, parent: pulumi.Resource
) -> aws.sqs.Queue:
    """``<name>-dead-letters`` and its policy: only these rules may send to it, over TLS.

    Args:
        name: the owning component's name, the prefix of both resources.
        rule_arns: the rules whose undeliverable events land here.
        sid: the policy statement's id, saying whose events these are.
        parent: the owning component.
    """
    child = pulumi.ResourceOptions(parent=parent)
    # SSE-SQS: EventBridge cannot write to a queue encrypted with the AWS-managed KMS key.
    queue = aws.sqs.Queue(
        f"{name}-dead-letters",
        sqs_managed_sse_enabled=True,
        message_retention_seconds=DEAD_LETTER_RETENTION_SECONDS,
        opts=child,
    )
    aws.sqs.QueuePolicy(
        f"{name}-dead-letters-policy",
        queue_url=queue.url,
        policy=pulumi.Output.all(queue.arn, *rule_arns).apply(
            lambda values: json.dumps(dead_letter_queue_policy(values[0], values[1:], sid))
        ),
        opts=child,
    )
    return queue


def event_target(
    resource_name: str,
    rule: aws.cloudwatch.EventRule,
    arn: pulumi.Input[str],
    dead_letters: aws.sqs.Queue,
    *,
    parent: pulumi.Resource,
    depends_on: Sequence[pulumi.Resource],
    role_arn: pulumi.Input[str] | None = None,
) -> aws.cloudwatch.EventTarget:
    """One target of ``rule``, retried with ``RETRY_POLICY``, then dead-lettered.

    Args:
        resource_name: the target resource's name.
        rule: the rule that delivers.
        arn: what it delivers to.
        dead_letters: where an event goes once the retries are spent.
        parent: the owning component.
        depends_on: the grant that lets the rule deliver (a role policy or a permission).
        role_arn: the role EventBridge assumes, for targets that authorise by role.
    """
    return aws.cloudwatch.EventTarget(
        resource_name,
        rule=rule.name,
        arn=arn,
        role_arn=role_arn,
        retry_policy=RETRY_POLICY,
        dead_letter_config=aws.cloudwatch.EventTargetDeadLetterConfigArgs(arn=dead_letters.arn),
        opts=pulumi.ResourceOptions(parent=parent, depends_on=list(depends_on)),
    )
