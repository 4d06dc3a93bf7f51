"""The recognizer behind the ``Recognizer`` port in Lambda: Bedrock vision.

The local cloud's offline recognizer lives beside it (``albumreg.cloud.recognition``) and
reaches the handlers through ``Dependencies``: nothing here imports it, so the Lambda artifact is
``handlers/`` whole.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from botocore.config import Config

from handlers.adapters.recognition.bedrock import BedrockRecognizer
from handlers.config import Settings
from handlers.domain.policy import VISION_CONNECT_TIMEOUT_SECONDS, VISION_READ_TIMEOUT_SECONDS
from handlers.domain.ports import Recognizer

if TYPE_CHECKING:
    import boto3

VISION_CLIENT_CONFIG = Config(
    connect_timeout=VISION_CONNECT_TIMEOUT_SECONDS,
    read_timeout=VISION_READ_TIMEOUT_SECONDS,
    retries={"mode": "standard", "total_max_attempts": 1},
)
"""SDK retries off: ``BedrockRecognizer`` retries throttling itself, with the policy's backoff."""


def build_recognizer(settings: Settings, session: boto3.session.Session) -> Recognizer:
    """Bedrock vision with its own timeouts.

    Args:
        settings: ``vision_model_id`` is the Bedrock model or inference profile.
        session: where the Bedrock client comes from (its endpoint from ``AWS_ENDPOINT_URL_*``).
    """
    client = session.client("bedrock-runtime", config=VISION_CLIENT_CONFIG)
    return BedrockRecognizer(client, settings.vision_model_id)
