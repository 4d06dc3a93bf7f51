"""``albumreg pricing-api``: the subcommand is discovered, parses its flags and documents them."""

from __future__ import annotations

import pytest

from albumreg.cli.main import build_parser, main


def test_pricing_api_help_lists_knobs(capsys):
    with pytest.raises(SystemExit) as done:
        main(["pricing-api", "--help"])
    assert done.value.code == 0
    text = capsys.readouterr().out
    for flag in (
        "--port",
        "--latency",
        "--jitter",
        "--error-rate",
        "--rate-limit",
        "--hang-rate",
        "--seed",
    ):
        assert flag in text


def test_pricing_api_parses_flags():
    args = build_parser().parse_args(
        [
            "pricing-api",
            "--port",
            "0",
            "--latency",
            "0.5",
            "--jitter",
            "0.1",
            "--error-rate",
            "0.2",
            "--rate-limit",
            "0.1",
            "--hang-rate",
            "0.05",
            "--seed",
            "7",
        ]
    )
    assert (args.port, args.latency, args.jitter, args.seed) == (0, 0.5, 0.1, 7)
    assert (args.error_rate, args.rate_limit, args.hang_rate) == (0.2, 0.1, 0.05)
    assert args.run.__module__ == "albumreg.cli.commands.pricing_api"


def test_pricing_api_defaults():
    args = build_parser().parse_args(["pricing-api"])
    assert (args.host, args.port, args.latency, args.error_rate, args.seed) == (
        "127.0.0.1",
        8700,
        0.0,
        0.0,
        None,
    )


@pytest.mark.parametrize("flags", [["--error-rate", "1.5"], ["--latency", "-1"], ["--port", "x"]])
def test_pricing_api_rejects_bad_flags(flags, capsys):
    with pytest.raises(SystemExit) as done:
        main(["pricing-api", *flags])
    assert done.value.code == 2
    assert "pricing-api" in capsys.readouterr().err
