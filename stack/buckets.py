"""A private S3 bucket: no public access, encrypted at rest, TLS only, owner-enforced objects.

Pulumi only; used by the storage and the Lambda artifact components for their buckets.
"""

from __future__ import annotations

import json

import pulumi
import pulumi_aws as aws

from stack.iam import tls_only_bucket_policy


def private_bucket(name: str, parent: pulumi.Resource) -> aws.s3.Bucket:
    """Create a bucket and the settings that keep it private, as children of ``parent``.

    ``force_destroy`` is on so that ``pulumi destroy`` removes the bucket with its objects
    (uploaded demo photos, build artifacts); nothing in it is the only copy of anything.
    """
    opts = pulumi.ResourceOptions(parent=parent)
    bucket = aws.s3.Bucket(name, force_destroy=True, opts=opts)
    public_access = aws.s3.BucketPublicAccessBlock(
        f"{name}-public-access",
        bucket=bucket.id,
        block_public_acls=True,
        block_public_policy=True,
        ignore_public_acls=True,
        restrict_public_buckets=True,
        opts=opts,
    )
    aws.s3.BucketOwnershipControls(
        f"{name}-ownership",
        bucket=bucket.id,
        rule={"object_ownership": "BucketOwnerEnforced"},
        opts=opts,
    )
    aws.s3.BucketServerSideEncryptionConfiguration(
        f"{name}-encryption",
        bucket=bucket.id,
        # SSE-S3: encrypted at rest without a KMS key policy every reader would need.
        rules=[{"apply_server_side_encryption_by_default": {"sse_algorithm": "AES256"}}],
        opts=opts,
    )
    aws.s3.BucketPolicy(
        f"{name}-tls-only",
        bucket=bucket.id,
        policy=bucket.arn.apply(lambda arn: json.dumps(tls_only_bucket_policy(arn))),
        # S3 rejects a bucket policy while the public access block is still being applied.
        opts=pulumi.ResourceOptions(parent=parent, depends_on=[public_access]),
    )
    return bucket
