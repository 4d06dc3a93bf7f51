"""Recognizers behind the ``Recognizer`` port: Bedrock vision on AWS, offline OCR locally.

Must not import the OCR engine, onnxruntime or rapidfuzz at module level: they are local-only
extras that the Lambda artifact does not contain.
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
    """The recognizer the settings ask for.

    Args:
        settings: ``recognizer`` picks the engine; ``vision_model_id`` the Bedrock model.
        session: where the Bedrock client comes from (its endpoint from ``AWS_ENDPOINT_URL_*``).
    """
    if settings.recognizer == "ocr":
        # Local-only: RapidOCR, onnxruntime and rapidfuzz are not in the Lambda artifact, so
        # they are imported only when the local cloud asks for the OCR engine.
        from handlers.adapters.catalog import load_catalog  # noqa: PLC0415
        from handlers.adapters.recognition.ocr import OcrRecognizer  # noqa: PLC0415

        return OcrRecognizer(load_catalog())
    client = session.client("bedrock-runtime", config=VISION_CLIENT_CONFIG)
    return BedrockRecognizer(client, settings.vision_model_id)
