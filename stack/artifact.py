"""Lambda code component: builds the one artifact and uploads it once for every function.

Pulumi only. The build itself (``stack.packaging``) runs while the program runs, during
``pulumi preview`` and ``pulumi up``; it reuses ``build/lambda`` so repeated runs cost seconds.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from stack import packaging
from stack.buckets import private_bucket


@dataclass(frozen=True)
class LambdaCode:
    """Where the shared artifact lives; every function's code arguments come from this.

    Attributes:
        bucket: the artifact bucket, read from the uploaded object so users depend on it.
        key: the object key (content-addressed: a new build is a new key), likewise.
        code_sha256: base64 SHA-256 of the zip, so Lambda updates exactly when it changes.
    """

    bucket: pulumi.Input[str]
    key: pulumi.Input[str]
    code_sha256: pulumi.Input[str]


@dataclass(frozen=True)
class LambdaArtifactArgs:
    """Arguments of ``LambdaArtifact``.

    Attributes:
        architecture: the Lambda architecture the dependency wheels are built for.
    """

    architecture: packaging.Architecture


class LambdaArtifact(pulumi.ComponentResource):
    """The zip of ``handlers/`` and its dependencies, in a private bucket."""

    code: LambdaCode

    def __init__(
        self, name: str, args: LambdaArtifactArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("albumreg:index:LambdaArtifact", name, None, opts)
        plan = packaging.plan_package(packaging.PROJECT_ROOT, args.architecture)
        artifact = packaging.build(plan, packaging.DEFAULT_BUILD_DIR)

        # One upload to S3 serves all eight functions; as ZipFile parameters the same 27 MB
        # would travel once per function, against a 50 MB direct-upload limit.
        bucket = private_bucket(f"{name}-bucket", self)
        upload = aws.s3.BucketObjectv2(
            f"{name}-zip",
            bucket=bucket.id,
            key=f"lambda/{artifact.path.name}",
            source=pulumi.FileAsset(str(artifact.path)),
            opts=pulumi.ResourceOptions(parent=self),
        )

        # The object's own outputs, not the bucket's id and a plain key: Pulumi orders resources
        # only through outputs (or depends_on), so a function built from these waits until the
        # zip is uploaded instead of racing it into "GetObject ... NoSuchKey".
        self.code = LambdaCode(
            bucket=upload.bucket, key=upload.key, code_sha256=artifact.code_sha256
        )
        self.register_outputs(
            {"bucket": upload.bucket, "key": upload.key, "code_sha256": artifact.code_sha256}
        )
