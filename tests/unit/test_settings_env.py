"""``Settings.to_env``: the names the stack deploys are the names the handlers read."""

from __future__ import annotations

from handlers.config import Settings


def test_settings_to_env_round_trips_defaults() -> None:
    settings = Settings(table_name="albums")
    assert Settings.from_env(settings.to_env()) == settings


def test_settings_to_env_round_trips_every_field() -> None:
    settings = Settings(
        table_name="albums",
        upload_prefix="incoming/",
        review_timeout_seconds=42,
        max_image_bytes=1234,
        vision_model_id="eu.amazon.nova-lite-v1:0",
        pricing_agent="bedrock",
        pricing_model_id="global.anthropic.claude-haiku-4-5-20251001-v1:0",
        pricing_base_url="http://127.0.0.1:9000",
        pricing_token_secret="arn:aws:secretsmanager:us-east-2:123456789012:secret:token-AbCdEf",
        pricing_token="local-token",
        metrics_mode="api",
    )
    assert Settings.from_env(settings.to_env()) == settings


def test_settings_to_env_leaves_out_unset_values() -> None:
    env = Settings(table_name="albums").to_env()
    assert "PRICING_TOKEN" not in env
    assert "PRICING_TOKEN_SECRET" not in env
    assert env["TABLE_NAME"] == "albums"
    assert all(isinstance(value, str) for value in env.values())
