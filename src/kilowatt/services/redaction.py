"""What must never be stored or shown in clear: credentials and key material in request bodies,
OCPP payloads and station configuration. Used by the audit log, the command log and the stored
configuration alike, so they hide the same things.
"""

from __future__ import annotations

from typing import Any

REDACTED = "***"

# A field is secret when its lower-cased name contains one of these (password, new_password,
# private_key, client_secret, ...)...
_SECRET_PARTS = ("password", "passphrase", "secret", "private")
# ...or ends with one of these (certificate, signing_certificate, certificate_chain, api_key, csr;
# not certificate_type, which says what the certificate is)...
_SECRET_ENDINGS = ("certificate", "certificate_chain", "_key", "csr")
# ...or is one of these.
_SECRET_NAMES = frozenset({"token", "access_token", "auth_token", "bearer_token", "api_token"})


def _secret_field(name: str) -> bool:
    lowered = name.lower()
    return lowered in _SECRET_NAMES or lowered.endswith(_SECRET_ENDINGS) or any(part in lowered for part in _SECRET_PARTS)


def secret_setting(name: object) -> bool:
    """A configuration key whose value is a credential: OCPP 1.6 AuthorizationKey, 2.0.1 BasicAuthPassword, ..."""
    if not isinstance(name, str):
        return False
    lowered = name.lower()
    return "password" in lowered or "secret" in lowered or lowered.endswith("key")


# The fields holding a variable's value: a 1.6 {"key", "value"} pair, a device-model variable
# {"variable", "value"} (the API and the typed command) and an OCPP 2.0.1 SetVariableData
# {"variable": {"name"}, "attributeValue"}.
_VALUE_FIELDS = frozenset({"value", "attributeValue", "attribute_value"})


def _variable_name(variable: Any) -> Any:
    """A variable's name, whether spelled as a string or as a 2.0.1 VariableType object."""
    return variable.get("name") if isinstance(variable, dict) else variable


def redact(value: Any) -> Any:
    """``value`` with every secret replaced by ``"***"``, at any depth.

    Secret: a field named like a credential or key material (see ``_SECRET_PARTS``), the
    ``value`` of a ``{"key": ..., "value": ...}`` pair whose key names a credential (a configuration
    change of AuthorizationKey), the value beside a ``variable`` naming a credential (a SetVariables
    of BasicAuthPassword) and a VPN's shared ``key`` (beside its ``server`` and ``password``). ``key`` alone is not secret: in this API it names a configuration
    key, which the audit trail should show. Nulls stay null (removing a password is not a secret).
    """
    if isinstance(value, dict):
        hide_value = secret_setting(value.get("key")) or secret_setting(_variable_name(value.get("variable")))
        # A "key" beside a VPN's "server" and "password" is its shared secret (OCPP 2.0.1 VPNType), not a
        # configuration key's name.
        hide_key = "server" in value and "password" in value
        return {
            k: (
                REDACTED
                if v is not None and (_secret_field(str(k)) or (hide_value and k in _VALUE_FIELDS) or (hide_key and k == "key"))
                else redact(v)
            )
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [redact(v) for v in value]
    return value
