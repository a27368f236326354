"""TOTP (RFC 6238, against its own test vectors) and login throttling, with fixed clocks."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlparse

import pytest

from handover.core.policy import signin

RFC_SECRET = b"12345678901234567890"  # RFC 6238 appendix B, SHA-1


@pytest.mark.parametrize(
    ("seconds", "code"),
    [
        (59, "94287082"),
        (1111111109, "07081804"),
        (1111111111, "14050471"),
        (1234567890, "89005924"),
        (2000000000, "69279037"),
        (20000000000, "65353130"),
    ],
)
def test_rfc_6238_test_vectors(seconds: int, code: str) -> None:
    assert signin.code_at(RFC_SECRET, datetime.fromtimestamp(seconds, UTC), digits=8) == code


NOW = datetime(2026, 1, 22, 9, 0, 10, tzinfo=UTC)


def test_a_code_is_accepted_within_one_step_and_never_twice() -> None:
    code = signin.code_at(RFC_SECRET, NOW)
    step = signin.verify_code(RFC_SECRET, code, NOW)
    assert step == signin.step_of(NOW)
    assert signin.verify_code(RFC_SECRET, code, NOW + timedelta(seconds=30)) == step  # clock drift
    assert signin.verify_code(RFC_SECRET, code, NOW - timedelta(seconds=30)) == step
    assert signin.verify_code(RFC_SECRET, code, NOW + timedelta(seconds=90)) is None  # too late
    assert signin.verify_code(RFC_SECRET, code, NOW, last_step=step) is None  # replayed
    assert signin.verify_code(RFC_SECRET, " " + code[:3] + " " + code[3:], NOW) == step  # typed with a space


@pytest.mark.parametrize("code", ["", "12345", "1234567", "abcdef", "12345a"])
def test_malformed_codes_are_refused(code: str) -> None:
    assert signin.verify_code(RFC_SECRET, code, NOW) is None


def test_naive_times_are_refused() -> None:
    with pytest.raises(ValueError, match="naive"):
        signin.code_at(RFC_SECRET, datetime(2026, 1, 1))


def test_the_provisioning_uri_is_what_authenticator_apps_read() -> None:
    uri = signin.provisioning_uri(RFC_SECRET, "diplomat-kz", "Handover")
    parsed = urlparse(uri)
    assert parsed.scheme == "otpauth" and parsed.netloc == "totp"
    assert parsed.path == "/Handover%3Adiplomat-kz"
    query = parse_qs(parsed.query)
    assert query["secret"] == ["GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"]  # base32 of the secret, unpadded
    assert query["issuer"] == ["Handover"] and query["digits"] == ["6"] and query["period"] == ["30"]


T = datetime(2026, 1, 22, 9, 0, tzinfo=UTC)


def _every(minutes: float, count: int) -> list[datetime]:
    return [T + timedelta(minutes=minutes * i) for i in range(count)]


def test_four_failures_are_not_throttled() -> None:
    assert signin.refused_until(_every(1, 4), T + timedelta(minutes=4)) is None


def test_five_failures_in_fifteen_minutes_refuse_for_a_minute_then_longer() -> None:
    failures = _every(1, 5)  # the fifth at 09:04
    assert signin.refused_until(failures, T + timedelta(minutes=4, seconds=30)) == T + timedelta(minutes=5)
    assert signin.refused_until(failures, T + timedelta(minutes=5)) is None
    # Each further failure doubles the delay.
    sixth = [*failures, T + timedelta(minutes=6)]
    assert signin.refused_until(sixth, T + timedelta(minutes=6)) == T + timedelta(minutes=8)
    seventh = [*sixth, T + timedelta(minutes=9)]
    assert signin.refused_until(seventh, T + timedelta(minutes=9)) == T + timedelta(minutes=13)


def test_the_delay_stops_growing_at_an_hour() -> None:
    failures = _every(1, 30)
    last = failures[-1]
    assert signin.refused_until(failures, last) == last + signin.MAX_DELAY


def test_failures_spread_over_hours_are_not_throttled() -> None:
    assert signin.refused_until(_every(20, 10), T + timedelta(hours=4)) is None


def test_failures_older_than_a_day_are_forgotten() -> None:
    old = _every(1, 10)
    assert signin.refused_until(old, T + timedelta(days=1, minutes=10)) is None
