"""Remote operations: every CSMS-initiated command, one table of typed operations.

Each row of :data:`OPERATIONS` names a route, its request body, how the body becomes a typed
command (:mod:`kilowatt.commands.model`) and the command's typed result; the routes are generated
from it. Routes and bodies are the same for every OCPP version: the node holding the station's
socket encodes the command for the version the station speaks. Targets: ``evse_id`` is the EVSE
(0: the whole station), ``connector_id`` a connector of it (OCPP 2.0.1; a 1.6 EVSE has one).

This module deliberately does not use ``from __future__ import annotations``: the generated
endpoints annotate their body with the row's model, which must be a real class when FastAPI reads it.
"""

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any, Literal, Optional, Union

from fastapi import APIRouter, Depends, HTTPException, Path, Query, Request
from pydantic import BaseModel, ConfigDict, Field

from kilowatt.api.auth import ROLE_RANK, Principal, operator, reader
from kilowatt.api.command_answers import CommandResponse, command_fields, response_model
from kilowatt.api.errors import error_responses
from kilowatt.api.pagination import Paginated
from kilowatt.api.profiles import ChargingProfileBody
from kilowatt.api.schemas import (
    IdTokenValue,
    Int32,
    NonNegativeInt32,
    PageOut,
    PrintableText,
    RequestBody,
    Text,
    UtcInput,
    page_out,
)
from kilowatt.api.schemas import StationId as StationIdValue
from kilowatt.commands import model as m
from kilowatt.refs import TransactionRef
from kilowatt.services.bundle import Services
from kilowatt.services.command_service import CommandAnswer
from kilowatt.services.common import Invalid, NotFound
from kilowatt.services.configuration import STATION_PASSWORD_KEYS, V16_COMPONENT
from kilowatt.services.data_transfer import DataTransferAnswer
from kilowatt.services.passwords import MAX_PASSWORD_LENGTH, MIN_PASSWORD_LENGTH
from kilowatt.services.redaction import secret_setting

router = APIRouter(tags=["remote operations"], responses=error_responses(403, 404, 413, command=True))

# OCPP's own bounds (2.0.1 string lengths; 1.6 leaves most unbounded, and a station would refuse more).
Uri = Text(512)
Pem = Text(10_000)
Name = PrintableText(50, min_length=1)

# Request bodies are strict (a JSON string is not an enum member), so enums are offered as their values.
ResetModeName = Literal["Immediate", "OnIdle"]
MessageTriggerName = Literal[tuple(t.value for t in m.MessageTrigger)]  # type: ignore[valid-type]
CertificateSigningUseName = Literal[tuple(u.value for u in m.CertificateSigningUse)]  # type: ignore[valid-type]
CertificateUseName = Literal[tuple(u.value for u in m.CertificateUse)]  # type: ignore[valid-type]
IdTokenTypeName = Literal[tuple(t.value for t in m.IdTokenType)]  # type: ignore[valid-type]


def _station_id(station_id: Annotated[StationIdValue, Path(description="Station id")]) -> str:
    return station_id


StationId = Depends(_station_id)
Body = RequestBody


class Target(Body):
    evse_id: NonNegativeInt32 | None = Field(None, description="EVSE (0: the whole station; OCPP 1.6: the connectorId)")
    connector_id: NonNegativeInt32 | None = Field(
        None, description="A connector of that EVSE (OCPP 2.0.1; a 1.6 EVSE has one connector, so omit it)"
    )


class EvseTarget(Body):
    """A command aimed at one EVSE as a whole (reservations, charging profiles, schedules)."""

    evse_id: NonNegativeInt32 = Field(description="EVSE (OCPP 1.6: the connectorId)")


class RequiredTarget(EvseTarget):
    """A command aimed at one EVSE, or one connector of it."""

    connector_id: NonNegativeInt32 | None = Field(
        None, description="A connector of that EVSE (OCPP 2.0.1; a 1.6 EVSE has one connector, so omit it)"
    )


class ResetBody(Body):
    mode: ResetModeName = Field(
        description="Immediate: now, ending running transactions; OnIdle: once no transaction runs. "
        "OCPP 1.6 sends Immediate as Hard and OnIdle as Soft (which ends transactions gracefully, then restarts)"
    )
    evse_id: NonNegativeInt32 | None = Field(None, description="Reset one EVSE only (OCPP 2.0.1)")


class RemoteStartBody(Body):
    id_token: IdTokenValue
    id_token_type: IdTokenTypeName | None = Field(  # type: ignore[valid-type]
        None,
        description="How the token is presented (OCPP 2.0.1; 1.6 has no type). Default: the registered token's type,"
        " Central for a token Kilowatt does not know",
    )
    evse_id: NonNegativeInt32 | None = Field(None, description="EVSE to start on; the station chooses when omitted")
    charging_profile: ChargingProfileBody | None = Field(None, description="A TxProfile charging profile")


class RemoteStopBody(Body):
    transaction_id: Int32 = Field(
        ge=1,
        description="Kilowatt's transaction id (`GET /transactions`; for OCPP 1.6 it is the transactionId the station was given;"
        " an OCPP 2.0.1 station is sent its own transactionId for it)",
    )


class AvailabilityBody(Target):
    operative: bool = Field(description="true: Operative; false: Inoperative")


class TriggerBody(Target):
    requested_message: MessageTriggerName = Field(description="The message the station should send now")


class DataTransferBody(Body):
    vendor_id: Text(255, min_length=1)  # type: ignore[valid-type]
    message_id: Text(50) | None = None  # type: ignore[valid-type]
    data: Text(65_536) | None = None  # type: ignore[valid-type]


class GetConfigurationBody(Body):
    keys: list[Name] | None = Field(None, max_length=500, description="Keys to read; all when omitted")  # type: ignore[valid-type]


class ChangeConfigurationBody(Body):
    key: Name  # type: ignore[valid-type]
    value: Text(500)  # type: ignore[valid-type]


class FirmwareBody(Body):
    location: Uri = Field(description="URI the station downloads the firmware from")  # type: ignore[valid-type]
    retrieve_date: UtcInput
    retries: NonNegativeInt32 | None = None
    retry_interval: NonNegativeInt32 | None = Field(None, description="Seconds")


class SignedFirmware(Body):
    location: Uri  # type: ignore[valid-type]
    retrieve_date_time: UtcInput
    install_date_time: UtcInput | None = None
    signing_certificate: Pem  # type: ignore[valid-type]
    signature: Text(800)  # type: ignore[valid-type]


class SignedFirmwareBody(Body):
    request_id: Int32
    firmware: SignedFirmware
    retries: NonNegativeInt32 | None = None
    retry_interval: NonNegativeInt32 | None = Field(None, description="Seconds")


class DiagnosticsBody(Body):
    location: Uri = Field(description="URI the station uploads the diagnostics file to")  # type: ignore[valid-type]
    retries: NonNegativeInt32 | None = None
    retry_interval: NonNegativeInt32 | None = Field(None, description="Seconds")
    start_time: UtcInput | None = None
    stop_time: UtcInput | None = None


class LogParameters(Body):
    remote_location: Uri  # type: ignore[valid-type]
    oldest_timestamp: UtcInput | None = None
    latest_timestamp: UtcInput | None = None


class LogBody(Body):
    log_type: Literal["DiagnosticsLog", "SecurityLog"]
    request_id: Int32
    log: LogParameters
    retries: NonNegativeInt32 | None = None
    retry_interval: NonNegativeInt32 | None = Field(None, description="Seconds")


class InstallCertificateBody(Body):
    certificate_type: CertificateUseName = Field(  # type: ignore[valid-type]
        description="Which root it is (OCPP 2.0.1 names; 1.6 knows CSMSRootCertificate, as CentralSystemRootCertificate, and ManufacturerRootCertificate)"
    )
    certificate: Pem = Field(description="PEM")  # type: ignore[valid-type]


class CertificateTypeQuery(BaseModel):
    certificate_type: CertificateUseName = Field(description="Which root certificates to list")  # type: ignore[valid-type]


class CertificateHashDataBody(Body):
    hash_algorithm: Literal["SHA256", "SHA384", "SHA512"]
    issuer_name_hash: PrintableText(128, min_length=1)  # type: ignore[valid-type]
    issuer_key_hash: PrintableText(128, min_length=1)  # type: ignore[valid-type]
    serial_number: PrintableText(40, min_length=1)  # type: ignore[valid-type]


class DeleteCertificateBody(Body):
    certificate_hash_data: CertificateHashDataBody


class CertificateSignedBody(Body):
    certificate_chain: Pem = Field(description="PEM chain")  # type: ignore[valid-type]
    certificate_type: CertificateSigningUseName | None = Field(  # type: ignore[valid-type]
        None,
        description="Which of the station's certificates the chain is (OCPP 2.0.1 on; V2G20Certificate is 2.1's; "
        "1.6 knows only ChargingStationCertificate: another type is 422). Omitted: the type the station asked "
        "for in its latest SignCertificate, when it named one; otherwise none is sent.",
    )


class ConfigurationKeyOut(BaseModel):
    key: str
    value: str | None
    readonly: bool
    updated_at: datetime


class ConfigurationOut(BaseModel):
    station_id: str
    keys: list[ConfigurationKeyOut]


class VariableAttributeOut(BaseModel):
    """One attribute of one variable of one component (OCPP 2.0.1 device model)."""

    model_config = ConfigDict(from_attributes=True)

    component: str
    component_instance: str = Field(description="Empty when the component has no instance")
    evse_id: int = Field(description="0 when the component is not on an EVSE")
    connector_id: int = Field(description="0 when the component is not on a connector")
    variable: str
    variable_instance: str = Field(description="Empty when the variable has no instance")
    attribute_type: str = Field(description="Actual, Target, MinSet or MaxSet")
    value: str | None = Field(description="As reported; credentials are stored as ***")
    mutability: str | None = Field(description="ReadOnly, WriteOnly or ReadWrite, when reported")
    updated_at: datetime | None


class DeviceModelOut(BaseModel):
    station_id: str
    variables: list[VariableAttributeOut]


class CommandRecordOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    station_id: str
    operation: str
    action: str | None
    request: dict[str, Any] | None = Field(
        description="The payload sent, in the station's OCPP version (credentials hidden); the typed command's fields when nothing was sent"
    )
    outcome: str = Field(description="answered | call_error | timeout | offline | busy | invalid | unavailable")
    status: str | None
    response: dict[str, Any] | None = Field(description="The station's answer as it sent it")
    error_code: str | None
    error_description: str | None
    requested_by: str
    requested_at: datetime
    duration_ms: float | None


class CommandPage(PageOut[CommandRecordOut]):
    pass


def _services(request: Request) -> Services:
    return request.app.state.services


# --- the table ------------------------------------------------------------------------------------

Run = Callable[[Services, str, Any, Principal], Awaitable[CommandAnswer[Any]]]


@dataclass(frozen=True)
class Operation:
    """One command route: ``build`` turns the request body into the typed command it sends."""

    name: str  # the endpoint's name (OpenAPI operationId)
    path: str  # under /stations/{station_id}/
    summary: str
    body: type[BaseModel] | None
    build: Callable[[Any], m.Command] | None
    result: type[m.Result] = m.StatusResult
    method: str = "POST"
    description: str | None = None
    run: Run | None = None  # instead of a plain send: a domain service that also stores what the station accepted
    optional_body: bool = False
    response: Any = None  # the reply model when it is not CommandResponse[result]
    extra: Callable[[CommandAnswer[Any]], dict[str, Any]] | None = None  # reply fields beyond CommandResponse's
    report: str | None = None  # the kind of report its body's request_id tags: a used one is refused (409)


async def _certificate_signed(services: Services, station_id: str, body: CertificateSignedBody, who: Principal) -> CommandAnswer[Any]:
    """CertificateSigned naming the certificate type: the operator's, or the one the station's last
    SignCertificate asked for (a station with both a V2G and a station certificate needs it to know
    where the chain goes)."""
    certificate_type = body.certificate_type
    if certificate_type is None:
        requests = await services.stations.events(station_id, "sign_certificate", limit=1)
        if requests.items and requests.items[0].details:
            certificate_type = requests.items[0].details.get("certificate_type")
    known = {use.value: use for use in m.CertificateSigningUse}  # what the station's schema allowed
    signing_use = known.get(certificate_type) if certificate_type else None
    return await services.commands.send(station_id, m.CertificateSigned(body.certificate_chain, signing_use), who.name)


def _hash_data(data: CertificateHashDataBody) -> m.CertificateHashData:
    return m.CertificateHashData(
        m.HashAlgorithm(data.hash_algorithm), data.issuer_name_hash, data.issuer_key_hash, data.serial_number
    )


async def transaction_ref(services: Services, station_id: str, transaction_id: int | None) -> TransactionRef | None:
    """Our transaction id as both sides name it, so a 2.0.1 station is sent its own transactionId.

    A transaction we do not know is passed on by our id alone (1.6 stations use it; a 2.0.1 station
    cannot be sent it, which its codec refuses as 422). One on another station is refused here."""
    if transaction_id is None:
        return None
    try:
        found = (await services.transactions.get(transaction_id)).transaction
    except NotFound:
        return TransactionRef(transaction_id)
    if found.station_id != station_id:
        raise Invalid(f"transaction {transaction_id} is on station {found.station_id!r}, not {station_id!r}")
    return found.ref


async def _remote_start(services: Services, station_id: str, body: RemoteStartBody, who: Principal) -> CommandAnswer[Any]:
    kind = body.id_token_type
    if kind is None:
        try:
            kind = (await services.authorization.get(body.id_token)).type
        except NotFound:
            kind = None  # the codec presents an unknown token as Central
    command = m.RemoteStart(
        body.id_token,
        body.evse_id,
        body.charging_profile.to_domain() if body.charging_profile else None,
        m.IdTokenType(kind) if kind else None,
    )
    return await services.commands.send(station_id, command, who.name)


async def _remote_stop(services: Services, station_id: str, body: RemoteStopBody, who: Principal) -> CommandAnswer[Any]:
    ref = await transaction_ref(services, station_id, body.transaction_id)
    assert ref is not None
    return await services.commands.send(station_id, m.RemoteStop(ref), who.name)


async def _data_transfer(services: Services, station_id: str, body: DataTransferBody, who: Principal) -> CommandAnswer[Any]:
    answer: CommandAnswer[m.DataTransferResult] = await services.commands.send(
        station_id, m.DataTransfer(body.vendor_id, body.message_id, body.data), who.name
    )
    result = answer.result
    await services.data_transfer.record(
        station_id, "outbound", body.vendor_id, body.message_id, body.data, DataTransferAnswer(result.status, result.data)
    )
    return answer


async def _get_configuration(
    services: Services, station_id: str, body: GetConfigurationBody | None, who: Principal
) -> CommandAnswer[Any]:
    return await services.configuration.fetch(station_id, who.name, body.keys if body else None)


async def _change_configuration(
    services: Services, station_id: str, body: ChangeConfigurationBody, who: Principal
) -> CommandAnswer[Any]:
    if secret_setting(body.key) and ROLE_RANK[who.role] < ROLE_RANK["admin"]:
        raise HTTPException(403, f"changing {body.key} (a credential) needs the admin role")
    if body.key in STATION_PASSWORD_KEYS and not MIN_PASSWORD_LENGTH <= len(body.value) <= MAX_PASSWORD_LENGTH:
        raise HTTPException(422, f"{body.key} must be {MIN_PASSWORD_LENGTH} to {MAX_PASSWORD_LENGTH} characters")
    return (await services.configuration.change(station_id, body.key, body.value, who.name)).answer


OPERATIONS: tuple[Operation, ...] = (
    Operation("reset", "reset", "Reset a station", ResetBody, lambda b: m.Reset(m.ResetMode(b.mode), b.evse_id)),
    Operation(
        "remote_start",
        "remote-start",
        "Start a transaction remotely (1.6 RemoteStartTransaction; 2.0.1 RequestStartTransaction)",
        RemoteStartBody,
        None,
        m.RemoteStartResult,
        description="OCPP 2.0.1 on: the result carries the `remote_start_id` sent, which the transaction the station"
        " starts reports back (TransactionEvent remoteStartId), and the station's `station_transaction_id` when a"
        " transaction was already running. OCPP 1.6 has no such id: the result is the status alone.",
        run=_remote_start,
        response=CommandResponse[Union[m.RemoteStartResult, m.StatusResult]],  # noqa: UP007 - a runtime union
    ),
    Operation("remote_stop", "remote-stop", "Stop a transaction remotely", RemoteStopBody, None, run=_remote_stop),
    Operation("unlock", "unlock", "Unlock a connector", RequiredTarget, lambda b: m.UnlockConnector(b.evse_id, b.connector_id)),
    Operation(
        "availability",
        "availability",
        "Change availability of an EVSE, or of the whole station (evse_id 0 or omitted)",
        AvailabilityBody,
        lambda b: m.ChangeAvailability(b.operative, b.evse_id or 0, b.connector_id),
    ),
    Operation(
        "trigger",
        "trigger",
        "Ask the station to send a message now (TriggerMessage)",
        TriggerBody,
        lambda b: m.TriggerMessage(m.MessageTrigger(b.requested_message), b.evse_id, b.connector_id),
    ),
    Operation(
        "extended_trigger",
        "extended-trigger",
        "Ask the station to send a message now (OCPP 1.6 security extension's ExtendedTriggerMessage)",
        TriggerBody,
        lambda b: m.ExtendedTriggerMessage(m.MessageTrigger(b.requested_message), b.evse_id, b.connector_id),
    ),
    Operation("clear_cache", "clear-cache", "Clear the station's authorization cache", None, lambda b: m.ClearCache()),
    Operation(
        "data_transfer",
        "data-transfer",
        "Send a vendor-specific DataTransfer",
        DataTransferBody,
        None,
        m.DataTransferResult,
        run=_data_transfer,
    ),
    Operation(
        "get_configuration",
        "get-configuration",
        "Read configuration from the station now (OCPP 1.6 GetConfiguration) and store it",
        GetConfigurationBody,
        None,
        m.GetConfigurationResult,
        run=_get_configuration,
        optional_body=True,
    ),
    Operation(
        "change_configuration",
        "configuration",
        "Change one configuration key (OCPP 1.6 ChangeConfiguration)",
        ChangeConfigurationBody,
        None,
        method="PATCH",
        description="`status` is the station's answer: Accepted, Rejected, RebootRequired or NotSupported.",
        run=_change_configuration,
    ),
    Operation(
        "update_firmware",
        "firmware",
        "Update firmware (OCPP 1.6 UpdateFirmware, unsigned)",
        FirmwareBody,
        lambda b: m.UpdateFirmware(b.location, b.retrieve_date, b.retries, b.retry_interval),
        m.EmptyResult,
    ),
    Operation(
        "signed_update_firmware",
        "firmware/signed",
        "Update firmware with a signed image (1.6 SignedUpdateFirmware; 2.0.1 UpdateFirmware)",
        SignedFirmwareBody,
        lambda b: m.SignedUpdateFirmware(
            b.request_id,
            m.Firmware(
                b.firmware.location,
                b.firmware.retrieve_date_time,
                b.firmware.signing_certificate,
                b.firmware.signature,
                b.firmware.install_date_time,
            ),
            b.retries,
            b.retry_interval,
        ),
    ),
    Operation(
        "get_diagnostics",
        "diagnostics",
        "Request a diagnostics upload (OCPP 1.6 GetDiagnostics)",
        DiagnosticsBody,
        lambda b: m.GetDiagnostics(b.location, b.retries, b.retry_interval, b.start_time, b.stop_time),
        m.GetDiagnosticsResult,
    ),
    Operation(
        "get_log",
        "logs",
        "Request a log upload (GetLog)",
        LogBody,
        lambda b: m.GetLog(
            m.LogType(b.log_type),
            b.request_id,
            b.log.remote_location,
            b.log.oldest_timestamp,
            b.log.latest_timestamp,
            b.retries,
            b.retry_interval,
        ),
        m.GetLogResult,
    ),
    Operation(
        "install_certificate",
        "certificates",
        "Install a certificate (InstallCertificate)",
        InstallCertificateBody,
        lambda b: m.InstallCertificate(m.CertificateUse(b.certificate_type), b.certificate),
    ),
    Operation(
        "installed_certificates",
        "certificates",
        "Ask the station which certificates it has installed (GetInstalledCertificateIds)",
        CertificateTypeQuery,
        lambda q: m.GetInstalledCertificateIds(m.CertificateUse(q.certificate_type)),
        m.GetInstalledCertificateIdsResult,
        method="GET",
    ),
    Operation(
        "delete_certificate",
        "certificates/delete",
        "Delete an installed certificate (DeleteCertificate)",
        DeleteCertificateBody,
        lambda b: m.DeleteCertificate(_hash_data(b.certificate_hash_data)),
    ),
    Operation(
        "certificate_signed",
        "certificates/signed",
        "Send a signed certificate chain after a SignCertificate (CertificateSigned)",
        CertificateSignedBody,
        None,
        run=_certificate_signed,
    ),
)


async def _run(request: Request, operation: Operation, station_id: str, body: Any, who: Principal) -> dict[str, Any]:
    services = _services(request)
    if operation.report is not None and body.request_id is not None:
        await services.reports.refuse_used_request_id(station_id, operation.report, body.request_id)
    if operation.run is not None:
        answer = await operation.run(services, station_id, body, who)
    else:
        assert operation.build is not None
        answer = await services.commands.send(station_id, operation.build(body), who.name)
    fields = command_fields(answer)
    if operation.extra is not None:
        fields.update(operation.extra(answer))
    return fields


def add_routes(target: APIRouter, operations: tuple[Operation, ...]) -> None:
    """Add a route per operation to ``target`` (this module's router, or another resource's)."""
    for operation in operations:
        _route(target, operation)


def _route(target: APIRouter, operation: Operation) -> None:
    """Add ``operation``'s route; the endpoint's signature tells FastAPI where its input comes from."""
    if operation.body is None:

        async def endpoint(request: Request, station_id: str = StationId, who: Principal = Depends(operator)) -> Any:
            return await _run(request, operation, station_id, None, who)

    elif operation.method == "GET":

        async def endpoint(  # type: ignore[misc]
            request: Request,
            query: Annotated[operation.body, Query()],  # type: ignore[name-defined]
            station_id: str = StationId,
            who: Principal = Depends(operator),
        ) -> Any:
            return await _run(request, operation, station_id, query, who)

    elif operation.optional_body:

        async def endpoint(  # type: ignore[misc]
            request: Request,
            body: Optional[operation.body] = None,  # type: ignore[name-defined]  # noqa: UP007
            station_id: str = StationId,
            who: Principal = Depends(operator),
        ) -> Any:
            return await _run(request, operation, station_id, body, who)

    else:

        async def endpoint(  # type: ignore[misc]
            request: Request,
            body: operation.body,  # type: ignore[name-defined]
            station_id: str = StationId,
            who: Principal = Depends(operator),
        ) -> Any:
            return await _run(request, operation, station_id, body, who)

    endpoint.__name__ = operation.name
    target.add_api_route(
        f"/stations/{{station_id}}/{operation.path}",
        endpoint,
        methods=[operation.method],
        summary=operation.summary,
        description=operation.description or "",
        response_model=operation.response or response_model(operation.result),
        name=operation.name,
    )


add_routes(router, OPERATIONS)


@router.get(
    "/stations/{station_id}/configuration",
    summary="The station's configuration as last reported",
    description="Refreshed in the background after every accepted BootNotification, and by get-configuration.",
    response_model=ConfigurationOut,
)
async def get_stored_configuration(
    request: Request, station_id: str = StationId, who: Principal = Depends(reader)
) -> ConfigurationOut:
    await _services(request).stations.get(station_id)  # 404 for an unknown station
    keys = await _services(request).configuration.stored(station_id)
    return ConfigurationOut(
        station_id=station_id,
        keys=[ConfigurationKeyOut(key=k.key, value=k.value, readonly=k.readonly, updated_at=k.updated_at) for k in keys],
    )


@router.get(
    "/stations/{station_id}/device-model",
    summary="The station's device model as last reported",
    description=(
        "Every reported attribute of every variable of every component. An OCPP 1.6 station's"
        f" configuration keys are the variables of the component {V16_COMPONENT} (attribute Actual)."
    ),
    response_model=DeviceModelOut,
)
async def get_device_model(
    request: Request,
    station_id: str = StationId,
    component: Annotated[Name | None, Query(description="Only this component's variables")] = None,  # type: ignore[valid-type]
    who: Principal = Depends(reader),
) -> DeviceModelOut:
    await _services(request).stations.get(station_id)  # 404 for an unknown station
    variables = await _services(request).configuration.device_model(station_id, component)
    return DeviceModelOut(station_id=station_id, variables=[VariableAttributeOut.model_validate(v) for v in variables])


@router.get(
    "/stations/{station_id}/commands", summary="Commands sent to a station and their outcomes", response_model=CommandPage
)
async def list_commands(
    request: Request,
    page_asked: Paginated,
    station_id: str = StationId,
    operation: Name | None = Query(None, description="Only commands of this operation, e.g. reset"),  # type: ignore[valid-type]
    who: Principal = Depends(reader),
) -> CommandPage:
    page = await _services(request).commands.list(station_id, page_asked.limit, page_asked.offset, operation)
    return page_out(CommandPage, page, CommandRecordOut.model_validate)
