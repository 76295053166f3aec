"""Request and response bodies of the REST API: the public contract, documented in /openapi.json.

Responses are built from the services' domain objects (``from_attributes``), so a field that is not
declared here never leaves the process; secrets such as ``password_hash`` never reach them at all. Timestamps go
out as ISO 8601 in UTC, always as ``2030-05-01T10:00:00.000000Z`` (microseconds, ``Z``); timestamps coming in must carry a time zone (a naive
time is ambiguous, so it is refused with 422) and are stored in UTC.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime, timezone
from typing import Annotated, Any, Generic, Literal, TypeVar

from annotated_types import Ge, Le
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    StringConstraints,
    WithJsonSchema,
)

from kilowatt.services.common import Page
from kilowatt.services.passwords import MAX_PASSWORD_LENGTH, MIN_PASSWORD_LENGTH
from kilowatt.services.stations import MAX_STATION_ID_LENGTH, STATION_ID_PATTERN

T = TypeVar("T")

MAX_ID_TOKEN_LENGTH = 36  # OCPP 2.0.1 IdTokenType.idToken; 1.6 idTag is at most 20

RegistrationStatus = Literal["Accepted", "Pending", "Rejected"]
OcppVersion = Literal["ocpp1.6", "ocpp2.0.1", "ocpp2.1"]
ConnectorStatusName = Literal["Available", "Occupied", "Reserved", "Unavailable", "Faulted"]
ChargingStateName = Literal["EVConnected", "Charging", "SuspendedEV", "SuspendedEVSE", "Idle"]
IdTokenStatus = Literal["Accepted", "Blocked", "Expired", "Invalid"]
IdTokenType = Literal["Central", "eMAID", "ISO14443", "ISO15693", "KeyCode", "Local", "MacAddress", "NoAuthorization"]


# --- value rules shared by bodies, paths and query parameters -------------------------------------
# Each rule is written once, as a type whose JSON schema states it (pattern, bounds), so a client
# reading /openapi.json knows what is refused and every input is checked before it reaches a
# service, a header or the database.

INT32_MIN, INT32_MAX = -(2**31), 2**31 - 1
DB_ID_MAX = 2**63 - 1  # our ids are BIGINT on PostgreSQL

def _integral(value: object) -> object:
    """JSON Schema's integer is any number without a fraction: ``5.0`` is 5 (strict pydantic would refuse it).

    Placed after the bounds in each ``Annotated`` so it runs first and the bounds stay in the JSON schema."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def BoundedInt(minimum: int, maximum: int) -> Any:  # noqa: N802 - reads as a type
    """An integer from ``minimum`` to ``maximum``, both stated in the JSON schema."""
    return Annotated[int, Ge(minimum), Le(maximum), BeforeValidator(_integral)]


Int32 = BoundedInt(INT32_MIN, INT32_MAX)
"""An OCPP integer: OCPP 2.0.1 defines integer as 32-bit signed, so nothing larger can be sent to a station."""
NonNegativeInt32 = BoundedInt(0, INT32_MAX)
"""An OCPP integer that cannot be negative: EVSE and connector ids, seconds, stack levels, retries."""
PositiveInt32 = BoundedInt(1, INT32_MAX)
DbId = BoundedInt(1, DB_ID_MAX)
"""A Kilowatt database id (a transaction's, an API key's): 63-bit, starting at 1."""
Float = Annotated[float, Field(allow_inf_nan=False)]
"""A finite number: infinity and NaN have no JSON spelling and no meaning as a limit."""

# No NUL (PostgreSQL text cannot hold it) nor other control characters (C0, DEL, C1).
_CONTROL = r"\x00-\x1f\x7f-\x9f"
# What may not open or close an id: controls, spaces and the other whitespace str.isspace knows.
_EDGE = _CONTROL + r"\x20\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\ufeff"
NO_NUL_PATTERN = r"^[^\x00]*$"
PRINTABLE_PATTERN = rf"^[^{_CONTROL}]*$"
ID_TOKEN_PATTERN = rf"^[^{_EDGE}]([^{_CONTROL}]*[^{_EDGE}])?$"

_STATION_ID_RULE = (
    f"1 to {MAX_STATION_ID_LENGTH} characters of A-Z a-z 0-9 * - _ = + | @ . "
    "(OCPP 2.0.1 identifierString; no ':', which would end the HTTP Basic user name)"
)
_ID_TOKEN_RULE = (
    f"1 to {MAX_ID_TOKEN_LENGTH} characters without control characters, not starting or ending with whitespace"
)


def _whole(pattern: str) -> re.Pattern[str]:
    """``pattern`` matched against the whole string: Python's ``$`` would also let a final newline through."""
    return re.compile(pattern.removeprefix("^").removesuffix("$"))


def _matching(pattern: str, rule: str):  # noqa: ANN202 - a validator factory
    compiled = _whole(pattern)

    def check(value: str) -> str:
        if not compiled.fullmatch(value):
            raise ValueError(rule)
        return value

    return check


def _string(min_length: int, max_length: int, pattern: str, rule: str) -> Any:
    """A string type whose schema carries its length and pattern, refused with ``rule`` as the message."""
    return Annotated[
        str,
        StringConstraints(min_length=min_length, max_length=max_length),
        AfterValidator(_matching(pattern, rule)),
        WithJsonSchema({"type": "string", "minLength": min_length, "maxLength": max_length, "pattern": pattern}),
    ]


def Text(max_length: int, min_length: int = 0) -> Any:  # noqa: N802 - reads as a type
    """Free text of bounded length without NUL (PostgreSQL text cannot store it)."""
    return _string(min_length, max_length, NO_NUL_PATTERN, "NUL characters are not allowed")


def PrintableText(max_length: int, min_length: int = 0) -> Any:  # noqa: N802 - reads as a type
    """Bounded text without control characters: names, keys, kinds."""
    return _string(min_length, max_length, PRINTABLE_PATTERN, "control characters are not allowed")


StationId = _string(1, MAX_STATION_ID_LENGTH, STATION_ID_PATTERN, f"a station id is {_STATION_ID_RULE}")
IdTokenValue = _string(1, MAX_ID_TOKEN_LENGTH, ID_TOKEN_PATTERN, f"an id token is {_ID_TOKEN_RULE}")




# RFC 3339 date-time: a string, with seconds and a time zone. Numbers (``until=0.5``) and the other
# ISO 8601 spellings pydantic would take are refused, so a client's mistake is not read as a date.
_RFC3339 = re.compile(r"\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})")
_TIMESTAMP_RULE = "a timestamp is an RFC 3339 string with a time zone, e.g. 2030-05-01T10:00:00Z"


def _rfc3339(value: object) -> object:
    if isinstance(value, datetime):  # built in Python, not parsed from a request
        return value
    if not isinstance(value, str) or not _RFC3339.fullmatch(value):
        raise ValueError(_TIMESTAMP_RULE)
    try:
        return datetime.fromisoformat(value.upper().replace(" ", "T"))
    except ValueError as exc:
        raise ValueError(f"{_TIMESTAMP_RULE} ({exc})") from None


def _to_utc(value: datetime) -> datetime:
    if value.tzinfo is None:
        raise ValueError("timestamp must carry a time zone (e.g. 'Z' or '+02:00')")
    try:
        return value.astimezone(timezone.utc)
    except OverflowError:
        raise ValueError("timestamp is out of range once converted to UTC") from None


def _format_utc(value: datetime) -> str:
    return value.isoformat(timespec="microseconds").replace("+00:00", "Z")


_DATE_TIME_SCHEMA = {"type": "string", "format": "date-time", "examples": ["2030-05-01T10:00:00.000000Z"]}

UtcInput = Annotated[datetime, BeforeValidator(_rfc3339), AfterValidator(_to_utc), WithJsonSchema(_DATE_TIME_SCHEMA)]
"""A timestamp in a request: an RFC 3339 string with an offset; converted to UTC."""
Utc = Annotated[
    datetime,
    AfterValidator(_to_utc),
    PlainSerializer(_format_utc, return_type=str, when_used="json"),
    WithJsonSchema(_DATE_TIME_SCHEMA),
]
"""A timestamp in a response: always UTC, always with microseconds and ``Z``, so every timestamp reads alike."""
Password = Annotated[
    str,
    Field(
        min_length=MIN_PASSWORD_LENGTH,
        max_length=MAX_PASSWORD_LENGTH,
        pattern=NO_NUL_PATTERN,
        description=f"HTTP Basic password (OCPP AuthorizationKey), {MIN_PASSWORD_LENGTH} to {MAX_PASSWORD_LENGTH} characters."
        " Stored as a salted hash and never returned.",
    ),
]


class RequestBody(BaseModel):
    """Every request body: unknown fields are refused (a typo is not silently ignored) and types are
    strict (``"5"`` is not a number, ``1`` is not ``true``), as the OpenAPI schema says."""

    model_config = ConfigDict(extra="forbid", strict=True)


class _Out(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class PageOut(BaseModel, Generic[T]):
    items: list[T]
    total: int = Field(description="How many items match the filters, across all pages")
    limit: int = Field(description="The page size asked for")
    offset: int = Field(description="How many matching items were skipped")


P = TypeVar("P", bound=PageOut[Any])


def page_out(model: type[P], page: Page[Any], item: Callable[[Any], Any]) -> P:
    """A service's :class:`~kilowatt.services.common.Page` as the route's page model, each item converted by ``item``."""
    return model(items=[item(entry) for entry in page.items], total=page.total, limit=page.limit, offset=page.offset)


# --- stations -----------------------------------------------------------------------------------


class ConnectorOut(_Out):
    """The last status a station reported for one connector. OCPP 1.6 connector N is EVSE N,
    connector 1; 1.6 connector 0 (the station as a whole) is EVSE 0, connector 0."""

    evse_id: int
    connector_id: int
    status: str | None = Field(
        description="The station's own word: OCPP 1.6 ChargePointStatus (Available, Preparing, Charging, ...) or"
        " OCPP 2.0.1 ConnectorStatus"
    )
    connector_status: ConnectorStatusName | None = Field(
        description="The same status in every version's terms (OCPP 2.0.1 ConnectorStatus): 1.6 Preparing, Charging,"
        " SuspendedEV, SuspendedEVSE and Finishing are all Occupied"
    )
    charging_state: ChargingStateName | None = Field(
        description="What the EV on an Occupied connector is doing (OCPP 2.0.1 ChargingState): from 1.6 Preparing"
        " (EVConnected), Charging, SuspendedEV, SuspendedEVSE, Finishing (EVConnected); from a 2.0.1 TransactionEvent's"
        " chargingState. Null when no EV is connected"
    )
    error_code: str | None
    info: str | None
    vendor_id: str | None
    vendor_error_code: str | None
    status_at: Utc | None = Field(description="The station's own timestamp of this status")


class StationOut(_Out):
    id: str
    vendor: str | None = Field(description="From the last BootNotification")
    model: str | None
    serial_number: str | None
    charge_box_serial_number: str | None
    firmware_version: str | None
    iccid: str | None
    imsi: str | None
    meter_type: str | None
    meter_serial_number: str | None
    ocpp_version: str | None = Field(description="The OCPP version of the last connection, e.g. ocpp1.6")
    pinned_ocpp_version: OcppVersion | None = Field(
        description="Set by an operator: the only version the station is admitted with (else the newest it offers)"
    )
    registration_status: RegistrationStatus
    connected: bool
    last_seen: Utc | None
    last_boot_at: Utc | None
    last_heartbeat_at: Utc | None
    firmware_status: str | None = Field(description="The last firmware status notification")
    diagnostics_status: str | None = Field(description="The last diagnostics status notification")
    has_password: bool = Field(description="Whether the station must authenticate with HTTP Basic auth")
    created_at: Utc
    connectors: list[ConnectorOut]


class StationCreate(RequestBody):
    id: StationId = Field(
        description=f"The identity the station connects with (ws://HOST/ocpp/{{id}}): {_STATION_ID_RULE}",
        examples=["CP-1"],
    )
    password: Password | None = None
    registration_status: RegistrationStatus = Field(
        "Accepted",
        description="What its BootNotification is answered with; Pending keeps it waiting for an operator",
    )


class StationUpdate(RequestBody):
    """Only the fields sent are changed. ``password: null`` removes the password."""

    password: Password | None = None
    # Absent means unchanged; null is refused (422): these fields cannot be empty.
    registration_status: RegistrationStatus = Field(  # type: ignore[assignment]
        None, description="e.g. Accepted to admit a Pending station at its next BootNotification"
    )
    ocpp_version: OcppVersion | None = Field(
        None,
        description="Pin the station to this OCPP version (null unpins). From its next connection it is admitted only"
        " with that subprotocol; offering only others gets HTTP 400 at the handshake",
    )


class StatusNotificationOut(_Out):
    id: int
    evse_id: int
    connector_id: int
    status: str
    error_code: str | None
    info: str | None
    vendor_id: str | None
    vendor_error_code: str | None
    timestamp: Utc | None = Field(description="The station's timestamp")
    received_at: Utc = Field(description="When the CSMS stored it")


class StationEventOut(_Out):
    id: int
    kind: str = Field(description="firmware, diagnostics, log, security, sign_certificate, ...")
    status: str
    request_id: int | None
    details: dict[str, object] | None
    received_at: Utc


class StationPage(PageOut[StationOut]):
    pass


class StatusNotificationPage(PageOut[StatusNotificationOut]):
    pass


class StationEventPage(PageOut[StationEventOut]):
    pass


# --- id tokens ----------------------------------------------------------------------------------

_ID_TOKEN_DESCRIPTION = (
    f"The identifier a driver presents (RFID UID, app id...): {_ID_TOKEN_RULE}."
    " OCPP 1.6 stations can only present idTags of up to 20 characters."
    " Case insensitive (OCPP): unique ignoring case, matched in any case, shown as registered."
)


MessageFormat = Literal["ASCII", "HTML", "URI", "UTF8", "QRCODE"]

_PERSONAL_MESSAGE_DESCRIPTION = (
    "Shown to the driver by OCPP 2.0.1/2.1 stations with every answer about this token (Authorize, "
    "TransactionEvent: idTokenInfo.personalMessage); OCPP 1.6 has no such field. QRCODE is an OCPP 2.1 format: "
    "2.0.1 stations do not get a QRCODE message."
)


class PersonalMessageBody(RequestBody):
    """OCPP 2.0.1 MessageContentType."""

    format: MessageFormat = Field(description="ASCII, HTML, URI, UTF8 or (OCPP 2.1 only) QRCODE")
    language: PrintableText(8, min_length=1) | None = Field(None, description="RFC 5646 tag, e.g. en")  # type: ignore[valid-type]
    content: Text(512, min_length=1) = Field(description="At most 512 characters")  # type: ignore[valid-type]


class PersonalMessageOut(_Out):
    format: str
    language: str | None
    content: str


class IdTokenOut(_Out):
    id_token: str
    status: IdTokenStatus
    type: str = Field(description="OCPP 2.0.1 IdTokenEnumType: a 2.0.1/2.1 station presenting the value with another type is answered Unknown")
    expiry_date: Utc | None
    parent_id_token: str | None = Field(description="The group this token belongs to")
    personal_message: PersonalMessageOut | None = Field(description=_PERSONAL_MESSAGE_DESCRIPTION)
    created_at: Utc
    updated_at: Utc


class IdTokenCreate(RequestBody):
    id_token: IdTokenValue = Field(description=_ID_TOKEN_DESCRIPTION, examples=["04A2B3C4D5E6F7"])
    status: IdTokenStatus = "Accepted"
    type: IdTokenType = "ISO14443"
    expiry_date: UtcInput | None = Field(
        None, description="ISO 8601 with a time zone; after it an Accepted token is answered Expired"
    )
    parent_id_token: IdTokenValue | None = Field(None, description="An existing id token this one belongs to (its group)")
    personal_message: PersonalMessageBody | None = Field(None, description=_PERSONAL_MESSAGE_DESCRIPTION)


class IdTokenUpdate(RequestBody):
    """Only the fields sent are changed. ``expiry_date: null``, ``parent_id_token: null`` and ``personal_message: null`` clear them."""

    status: IdTokenStatus = None  # type: ignore[assignment]  # absent: unchanged; null: 422
    type: IdTokenType = None  # type: ignore[assignment]
    expiry_date: UtcInput | None = None
    parent_id_token: IdTokenValue | None = None
    personal_message: PersonalMessageBody | None = Field(None, description=_PERSONAL_MESSAGE_DESCRIPTION)


class IdTokenPage(PageOut[IdTokenOut]):
    pass


# --- transactions -------------------------------------------------------------------------------

MAX_STATION_TRANSACTION_ID_LENGTH = 36  # OCPP 2.0.1 TransactionType.transactionId
StationTransactionId = _string(
    1,
    MAX_STATION_TRANSACTION_ID_LENGTH,
    PRINTABLE_PATTERN,
    f"a station's transaction id is 1 to {MAX_STATION_TRANSACTION_ID_LENGTH} characters without control characters",
)


class MeterValueOut(_Out):
    timestamp: Utc
    value: str = Field(description="As the station sent it: a number, or signed data")
    value_numeric: float | None = Field(description="The value as a number; null for signed data")
    measurand: str
    context: str | None
    unit: str | None
    phase: str | None
    location: str | None
    format: str | None
    unit_multiplier: int | None = Field(description="OCPP 2.0.1 unitOfMeasure.multiplier; value_numeric has it applied")
    signed_meter_value: dict[str, Any] | None = Field(description="OCPP 2.0.1 signedMeterValue, as the station sent it")
    source: str = Field(
        description="The message that carried it: MeterValues, StartTransaction or StopTransaction (OCPP 1.6),"
        " TransactionEvent (OCPP 2.0.1)"
    )


class TransactionOut(_Out):
    id: int = Field(description="Kilowatt's id; the transactionId of OCPP 1.6")
    station_id: str
    evse_id: int = Field(description="0 until an event of the transaction names its EVSE (OCPP 2.0.1, events out of order)")
    connector_id: int
    station_transaction_id: str | None = Field(
        description="The station's own id (the transactionId of OCPP 2.0.1); null for OCPP 1.6, whose stations use `id`."
        " Either id finds the transaction: /transactions/{id}, /stations/{station_id}/transactions/{station_transaction_id}"
    )
    id_token: str | None = Field(description="The token that started or joined it; null until one is presented (OCPP 2.0.1)")
    id_token_status: str | None = Field(description="The authorization answer given for id_token")
    reservation_id: int | None
    meter_start_wh: int | None = Field(description="The start reading; null when the station did not report one")
    meter_stop_wh: int | None
    energy_wh: int | None = Field(
        description="Energy delivered. Once stopped: computed at the stop from the start reading, every energy"
        " register reading and the stop reading — meter_stop_wh - meter_start_wh unless the meter was reset"
        " mid-session, in which case counting restarts from zero at the reset. While active: the latest"
        " Energy.Active.Import.Register sample (in Wh, rounded) minus meter_start_wh, or null without one"
    )
    started_at: Utc
    stopped_at: Utc | None
    start_reason: str | None = Field(description="Why it started (OCPP 2.0.1 triggerReason); null for OCPP 1.6")
    stop_reason: str | None
    stop_id_token: str | None
    active: bool
    charging_state: str | None = Field(
        description="OCPP 2.0.1 ChargingState as last reported (EVConnected, Charging, SuspendedEV, SuspendedEVSE, Idle);"
        " null for OCPP 1.6, whose connector status carries it (see the station's connectors)"
    )
    trigger_reason: str | None = Field(description="OCPP 2.0.1 triggerReason of the latest event (by seqNo)")
    remote_start_id: int | None = Field(
        description="The remoteStartId of the remote-start command that caused it (OCPP 2.0.1)"
    )
    number_of_phases_used: int | None
    cable_max_current_a: int | None = Field(description="OCPP 2.0.1 cableMaxCurrent, in A")
    id_token_type: str | None = Field(description="OCPP 2.0.1 IdToken type of id_token, e.g. ISO14443, eMAID")
    offline: bool = Field(description="Whether any of its events was sent while the station was offline")


class TransactionEventOut(_Out):
    seq_no: int
    event_type: Literal["Started", "Updated", "Ended"]
    timestamp: Utc = Field(description="The station's time of the event")
    reason: str | None = Field(description="triggerReason; stoppedReason for Ended")
    offline: bool
    received_at: Utc


class TransactionDetailOut(TransactionOut):
    meter_values: list[MeterValueOut] = Field(description="Every sample of this transaction, oldest first")
    events: list[TransactionEventOut] = Field(
        description="Every OCPP 2.0.1 TransactionEvent stored for it, by seqNo (each once: a replay is not stored again);"
        " empty for OCPP 1.6"
    )
    missing_seq_nos: list[int] = Field(
        description="seqNos below the highest stored that never arrived: events the station lost or has not"
        " delivered yet (at most 1000 listed)"
    )


class TransactionPage(PageOut[TransactionOut]):
    pass



# --- API keys and the audit log -----------------------------------------------------------------

Role = Literal["admin", "operator", "viewer"]


class ApiKeyCreate(RequestBody):
    name: PrintableText(64, min_length=1) = Field(  # type: ignore[valid-type]
        description="Who or what holds the key (a person, a service); the audit log names callers by it. "
        "Unique among active keys.",
        examples=["billing-service"],
    )
    role: Role = Field(description="viewer reads; operator also sends commands and manages id tokens; "
                       "admin also manages stations and API keys")


class ApiKeyOut(_Out):
    """An API key as listed: never the key itself, nor its hash."""

    id: int
    name: str
    role: str
    prefix: str = Field(description="The key's first characters, to tell keys apart; not enough to use it")
    created_at: Utc
    created_by: str = Field(description="Who created it (an audit name)")
    last_used_at: Utc | None = Field(description="When it last authenticated a request, to the minute")
    revoked_at: Utc | None = Field(description="When it was revoked; a revoked key is refused (401)")


class ApiKeyCreated(ApiKeyOut):
    key: str = Field(
        description="The key. Shown this once: only its hash is stored. Send it as 'Authorization: Bearer <key>'",
        examples=["kw_3q2-7wEYyK1m4Zk0rJx5hQ8s8a1cN1uTzWnH0p6dLfI"],
    )


class ApiKeyPage(PageOut[ApiKeyOut]):
    pass


class AuditEntryOut(_Out):
    id: int
    at: Utc = Field(description="When the request was answered")
    principal: str = Field(
        description="The caller: an API key's name, 'admin-token', 'anonymous' (no admin token configured) "
        "or 'unauthenticated' (refused with 401)"
    )
    role: str = Field(description="The caller's role then; 'none' when unauthenticated")
    method: str
    path: str = Field(description="The request path, with its query string")
    status_code: int = Field(description="The HTTP status answered")
    body: dict[str, Any] | None = Field(
        description="The JSON request body with secrets replaced by \"***\"; null when empty. A body that is JSON "
        "but not an object is recorded as {\"json\": <value>}; one that is not JSON, or is over 64 KiB, as "
        "{\"not_recorded\": \"<why>\"}"
    )


class AuditPage(PageOut[AuditEntryOut]):
    pass
