"""Errors of the domain. Their class names are the error names both orchestrators see.

Step Functions matches ``ErrorEquals`` against the exception class name a Lambda raised, and
the durable SDK keeps the class name in ``StepError.error_type``, so renaming a class here is a
change to the ASL and the retry policy too.
"""

from __future__ import annotations


class AlbumRegError(Exception):
    """Base of every error this project raises on purpose."""


class TransientError(AlbumRegError):
    """A fault that may pass: throttling, a timeout, a 5xx, a dropped connection.

    Adapters raise it (or a subclass) after at most one quick retry inside the request; the
    orchestrator retries the whole step with the policy's backoff. A subclass's name must be
    listed in ``RETRYABLE_ERRORS`` too, because Step Functions matches names, not classes.
    """


class InvalidImageError(AlbumRegError):
    """The upload is not an image we can read. Never retried; the upload is ``REJECTED``."""


class InvalidUploadError(AlbumRegError):
    """The S3 event or object key is not acceptable (wrong prefix, unsafe key, bad event)."""


class RecognitionError(AlbumRegError):
    """The vision model gave nothing usable after the bounded retries."""


class DuplicateUploadError(AlbumRegError):
    """Another execution already claimed this upload for this pattern."""


class UploadNotFoundError(AlbumRegError):
    """No upload with that id exists for that pattern."""


class ReviewNotFoundError(AlbumRegError):
    """No review is open (or ever was) for that upload and pattern."""


class ReviewAlreadyResolvedError(AlbumRegError):
    """The review was approved, rejected or timed out already; a second decision is refused."""


class ReviewExpiredError(AlbumRegError):
    """The orchestrator no longer waits for this review (it timed out or the token is unknown)."""


class PricingError(AlbumRegError):
    """The pricing API refused the request or answered nonsense: an error estimate at once.

    Retrying cannot help here. An API that is unavailable raises a ``TransientError`` instead.
    """


class InvalidReviewError(AlbumRegError):
    """A reviewer's decision failed validation at the gateway; nothing was sent to a workflow."""
