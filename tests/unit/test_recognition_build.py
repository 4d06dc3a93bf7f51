"""Choosing a recognizer, and keeping local-only packages out of what Lambda imports."""

from __future__ import annotations

import ast
from pathlib import Path

import boto3
import pytest

from handlers.adapters.recognition import build_recognizer
from handlers.adapters.recognition.bedrock import BedrockRecognizer
from handlers.config import Settings
from handlers.domain.policy import VISION_READ_TIMEOUT_SECONDS

PACKAGE = Path(__file__).parents[2] / "handlers" / "adapters" / "recognition"
LOCAL_ONLY = ("rapidocr", "onnxruntime", "rapidfuzz", "cv2", "numpy")
LAMBDA_MODULES = ("__init__.py", "bedrock.py", "image.py")


def module_level_imports(path: Path) -> set[str]:
    """Imports executed when the module loads (function bodies are not)."""
    names: set[str] = set()
    for node in ast.parse(path.read_text()).body:
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


@pytest.mark.parametrize("module", LAMBDA_MODULES)
def test_lambda_side_of_recognition_imports_no_local_only_package(module):
    imported = module_level_imports(PACKAGE / module)
    banned = (*LOCAL_ONLY, "albumreg")
    assert (
        sorted(
            name for name in imported if any(name == b or name.startswith(b + ".") for b in banned)
        )
        == []
    )


def test_build_recognizer_gives_bedrock_with_its_own_timeouts():
    session = boto3.session.Session(region_name="us-east-1")
    settings = Settings(table_name="t", vision_model_id="model-x")
    recognizer = build_recognizer(settings, session)
    assert isinstance(recognizer, BedrockRecognizer)
    assert recognizer.engine == "bedrock:model-x"
    # botocore's stubs do not declare Config's options, which are set as attributes at runtime.
    options = vars(recognizer._client.meta.config)
    assert options["read_timeout"] == VISION_READ_TIMEOUT_SECONDS
    assert options["retries"]["total_max_attempts"] == 1


def test_the_offline_recognizer_is_the_local_clouds_and_reads_the_catalog():
    from albumreg.cloud.recognition import offline_recognizer
    from albumreg.cloud.recognition.ocr import OcrRecognizer

    assert isinstance(offline_recognizer(), OcrRecognizer)
