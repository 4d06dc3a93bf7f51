"""The local cloud, started with its defaults, listens on loopback only and keeps no secret in the
environment or in the env file the CLI and the dashboard read."""

from __future__ import annotations

import os
from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest

from albumreg.cloud.local_cloud import LOCAL_PRICING_TOKEN, CloudOptions, LocalCloud
from tests.functional.reliability.sockets import PROC_TABLES, listening_addresses


@pytest.fixture(scope="module")
def cloud(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalCloud]:
    """One cloud with the defaults a person gets (but free ports), for every check here."""
    if not PROC_TABLES[0].exists():
        pytest.skip("needs Linux /proc/net/tcp to see which address a socket listens on")
    env_file = tmp_path_factory.mktemp("binding") / "local.env"
    with LocalCloud(CloudOptions(port_base=0, env_file=env_file)) as running:
        yield running


def test_local_cloud_servers_listen_on_loopback_only(cloud: LocalCloud) -> None:
    assert cloud.pricing is not None
    urls = {*cloud.target.endpoints.values(), cloud.pricing.url}
    ports = {urlsplit(url).port for url in urls}
    assert len(ports) == 3, "moto, the durable plane and the pricing API"

    for port in ports:
        assert port is not None
        assert listening_addresses(port) == {"127.0.0.1"}, port


def test_local_cloud_keeps_the_pricing_token_out_of_environment_and_env_file(
    cloud: LocalCloud,
) -> None:
    env_file = cloud.options.env_file.read_text()

    assert LOCAL_PRICING_TOKEN not in env_file
    assert "PRICING_TOKEN" not in env_file
    assert "PRICING_TOKEN" not in os.environ
    assert all(LOCAL_PRICING_TOKEN not in value for value in os.environ.values())
