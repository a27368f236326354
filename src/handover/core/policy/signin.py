"""Signing in, as pure functions of the time: TOTP second factors (RFC 6238) and login throttling.

TOTP is the `cryptography` implementation (HMAC-SHA1, 30-second steps, 6 digits: what authenticator apps expect).
Verification accepts the step before and after the current one (clock drift) and never a step at or before the last
one accepted, so a code cannot be replayed.

Throttling: after `THRESHOLD` failures within `WINDOW` (since the last success), sign-in is refused until a delay
after the latest failure has passed; the delay doubles with each further failure, up to `MAX_DELAY`. Refused attempts
are not failures (no password was checked), so an attacker cannot keep an account locked by hammering it.
"""

from __future__ import annotations

import base64
from collections.abc import Iterable
from datetime import datetime, timedelta
from urllib.parse import quote, urlencode

from cryptography.hazmat.primitives.hashes import SHA1
from cryptography.hazmat.primitives.twofactor import InvalidToken
from cryptography.hazmat.primitives.twofactor.totp import TOTP

STEP_SECONDS = 30
DIGITS = 6
SECRET_BYTES = 20  # 160 bits, as RFC 4226 recommends for HMAC-SHA1
DRIFT_STEPS = 1


def _totp(secret: bytes, digits: int = DIGITS) -> TOTP:
    return TOTP(secret, digits, SHA1(), STEP_SECONDS)


def step_of(at: datetime) -> int:
    if at.tzinfo is None:
        raise ValueError("naive datetime: TOTP needs an aware time")
    return int(at.timestamp()) // STEP_SECONDS


def code_at(secret: bytes, at: datetime, digits: int = DIGITS) -> str:
    """The code an authenticator shows at `at`."""
    if at.tzinfo is None:
        raise ValueError("naive datetime: TOTP needs an aware time")
    return _totp(secret, digits).generate(int(at.timestamp())).decode()


def verify_code(secret: bytes, code: str, at: datetime, last_step: int | None = None) -> int | None:
    """The time step `code` is valid for (within one step of `at`, after `last_step`), or None."""
    code = code.strip().replace(" ", "")
    if len(code) != DIGITS or not code.isdigit():
        return None
    now = step_of(at)
    totp = _totp(secret)
    for step in (now, now - DRIFT_STEPS, now + DRIFT_STEPS):
        if last_step is not None and step <= last_step:
            continue
        try:
            totp.verify(code.encode(), step * STEP_SECONDS)
        except InvalidToken:
            continue
        return step
    return None


def secret_text(secret: bytes) -> str:
    """The secret as authenticator apps take it by hand: base32, no padding."""
    return base64.b32encode(secret).decode().rstrip("=")


def provisioning_uri(secret: bytes, account_name: str, issuer: str) -> str:
    """An otpauth:// URI (the Key Uri Format authenticator apps read from a QR code)."""
    label = quote(f"{issuer}:{account_name}", safe="")
    query = urlencode(
        {"secret": secret_text(secret), "issuer": issuer, "algorithm": "SHA1", "digits": DIGITS, "period": STEP_SECONDS}
    )
    return f"otpauth://totp/{label}?{query}"


# --- throttling -----------------------------------------------------------------------------------------------------

THRESHOLD = 5
WINDOW = timedelta(minutes=15)
BASE_DELAY = timedelta(minutes=1)
MAX_DELAY = timedelta(hours=1)
LOOKBACK = timedelta(hours=24)  # failures older than this are forgotten


def refused_until(failures: Iterable[datetime], now: datetime) -> datetime | None:
    """Until when sign-in is refused, given the times of the failures since the last success; None when allowed.

    Refused once `THRESHOLD` failures fell within `WINDOW` of each other: until `BASE_DELAY` after the latest
    failure, doubling for every failure after the one that reached the threshold, at most `MAX_DELAY`.
    """
    recent = sorted(t for t in failures if now - t <= LOOKBACK)
    first = THRESHOLD - 1
    trigger = next((i for i in range(first, len(recent)) if recent[i] - recent[i - first] <= WINDOW), None)
    if trigger is None:
        return None
    extra = len(recent) - 1 - trigger
    delay = MAX_DELAY if extra >= 12 else min(BASE_DELAY * (1 << extra), MAX_DELAY)
    until = recent[-1] + delay
    return until if until > now else None
