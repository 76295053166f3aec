"""Station passwords (OCPP security profiles 1 and 2: HTTP Basic auth), stored as salted hashes.

A station password is an OCPP ``AuthorizationKey``: machine-generated, 16 to 40 characters (the API
enforces the minimum). With that much entropy a slow password hash buys nothing, while a boot
storm of thousands of stations would pay its cost on every handshake — so one salted SHA-256.
"""

from __future__ import annotations

import hashlib
import hmac
import os

MIN_PASSWORD_LENGTH = 16
MAX_PASSWORD_LENGTH = 40


def hash_password(password: str) -> str:
    salt = os.urandom(16).hex()
    return f"sha256${salt}${hashlib.sha256((salt + password).encode()).hexdigest()}"


def verify_password(password: str, stored: str) -> bool:
    try:
        scheme, salt, digest = stored.split("$")
    except ValueError:
        return False
    if scheme != "sha256":
        return False
    return hmac.compare_digest(hashlib.sha256((salt + password).encode()).hexdigest(), digest)
