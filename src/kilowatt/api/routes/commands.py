"""Remote operations: every CSMS-initiated OCPP command, one typed endpoint each.

Routes are named by operation, not by protocol version, so an OCPP 2.0.1 station gets the same
route (``remote-start`` is RemoteStartTransaction in 1.6, RequestStartTransaction in 2.0.1).
Targets: ``evse_id`` (for OCPP 1.6 it is the 1.6 connectorId); ``connector_id`` alone is accepted
as the 1.6 connectorId too.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, HTTPException, Path, Query, Request
from pydantic import BaseModel, ConfigDict, Field, model_validator

from kilowatt.api.auth import ROLE_RANK, Principal, operator, reader
from kilowatt.api.commands import CommandResponse, command_response
from kilowatt.api.errors import error_responses
from kilowatt.api.pagination import Paginated
from kilowatt.api.profiles import ChargingProfile
from kilowatt.api.schemas import (
    IdTokenValue,
    Int32,
    NonNegativeInt32,
    PrintableText,
    RequestBody,
    Text,
    UtcInput,
)
from kilowatt.api.schemas import StationId as StationIdValue
from kilowatt.ocpp.services import Services
from kilowatt.services.configuration import STATION_PASSWORD_KEYS
from kilowatt.services.data_transfer import DataTransferAnswer
from kilowatt.services.passwords import MAX_PASSWORD_LENGTH, MIN_PASSWORD_LENGTH
from kilowatt.services.redaction import secret_setting

router = APIRouter(tags=["remote operations"], responses=error_responses(403, 404, 413, command=True))

# OCPP's own bounds (2.0.1 string lengths; 1.6 leaves most unbounded, and a station would refuse more).
Uri = Text(512)
Pem = Text(10_000)
Name = PrintableText(50, min_length=1)


def _station_id(station_id: Annotated[StationIdValue, Path(description="Station id")]) -> str:
    return station_id


StationId = Depends(_station_id)
Body = RequestBody


class Target(Body):
    evse_id: NonNegativeInt32 | None = Field(None, description="EVSE (OCPP 1.6: the connectorId)")
    connector_id: NonNegativeInt32 | None = Field(None, description="Connector; alone, the OCPP 1.6 connectorId")


class RequiredTarget(Body):
    """A command that needs a target: ``evse_id``, or for OCPP 1.6 ``connector_id`` (omitted, not null)."""

    model_config = ConfigDict(json_schema_extra={"anyOf": [{"required": ["evse_id"]}, {"required": ["connector_id"]}]})

    evse_id: NonNegativeInt32 = Field(None, description="EVSE (OCPP 1.6: the connectorId)")  # type: ignore[assignment]
    connector_id: NonNegativeInt32 = Field(  # type: ignore[assignment]
        None, description="Connector; alone, the OCPP 1.6 connectorId"
    )

    @model_validator(mode="after")
    def _one_target(self) -> RequiredTarget:
        if self.evse_id is None and self.connector_id is None:
            raise ValueError("give evse_id (or, for OCPP 1.6, connector_id)")
        return self


class ResetBody(Body):
    type: Literal["Soft", "Hard"] = Field(description="Soft: restart the software; Hard: reboot")


class RemoteStartBody(Target):
    id_token: IdTokenValue
    charging_profile: ChargingProfile | None = Field(None, description="A TxProfile charging profile")


class RemoteStopBody(Body):
    transaction_id: Int32 = Field(description="The transaction's OCPP transactionId")


class AvailabilityBody(Target):
    type: Literal["Operative", "Inoperative"]


class TriggerBody(Target):
    requested_message: Name = Field(description="e.g. BootNotification, Heartbeat, MeterValues, StatusNotification")


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
    retry_interval: NonNegativeInt32 | None = None


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
    retry_interval: NonNegativeInt32 | None = None


class DiagnosticsBody(Body):
    location: Uri = Field(description="URI the station uploads the diagnostics file to")  # type: ignore[valid-type]
    retries: NonNegativeInt32 | None = None
    retry_interval: NonNegativeInt32 | None = None
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
    retry_interval: NonNegativeInt32 | None = None


class InstallCertificateBody(Body):
    certificate_type: Name = Field(description="e.g. CentralSystemRootCertificate, ManufacturerRootCertificate")  # type: ignore[valid-type]
    certificate: Pem = Field(description="PEM")  # type: ignore[valid-type]


class CertificateHashData(Body):
    hash_algorithm: Literal["SHA256", "SHA384", "SHA512"]
    issuer_name_hash: PrintableText(128, min_length=1)  # type: ignore[valid-type]
    issuer_key_hash: PrintableText(128, min_length=1)  # type: ignore[valid-type]
    serial_number: PrintableText(40, min_length=1)  # type: ignore[valid-type]


class DeleteCertificateBody(Body):
    certificate_hash_data: CertificateHashData


class CertificateSignedBody(Body):
    certificate_chain: Pem = Field(description="PEM chain")  # type: ignore[valid-type]


class ConfigurationKeyOut(BaseModel):
    key: str
    value: str | None
    readonly: bool
    updated_at: datetime


class ConfigurationOut(BaseModel):
    station_id: str
    keys: list[ConfigurationKeyOut]


class CommandRecordOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    station_id: str
    operation: str
    action: str | None
    request: dict[str, Any] | None
    outcome: str = Field(description="answered | call_error | timeout | offline | busy | invalid")
    status: str | None
    response: dict[str, Any] | None
    error_code: str | None
    error_description: str | None
    requested_by: str
    requested_at: datetime
    duration_ms: float | None


class CommandPage(BaseModel):
    items: list[CommandRecordOut]
    total: int
    limit: int
    offset: int


def _services(request: Request) -> Services:
    return request.app.state.services


async def _send(request: Request, station_id: str, operation: str, body: BaseModel | None, who: Principal) -> CommandResponse:
    params = body.model_dump(mode="json", exclude_none=True) if body is not None else {}
    answer = await _services(request).commands.send(station_id, operation, params, who.name)
    return command_response(answer)


@router.post("/stations/{station_id}/reset", summary="Reset (reboot) a station", response_model=CommandResponse)
async def reset(request: Request, body: ResetBody, station_id: str = StationId, who: Principal = Depends(operator)) -> CommandResponse:
    return await _send(request, station_id, "reset", body, who)


@router.post("/stations/{station_id}/remote-start", summary="Start a transaction remotely", response_model=CommandResponse)
async def remote_start(
    request: Request, body: RemoteStartBody, station_id: str = StationId, who: Principal = Depends(operator)
) -> CommandResponse:
    return await _send(request, station_id, "remote_start", body, who)


@router.post("/stations/{station_id}/remote-stop", summary="Stop a transaction remotely", response_model=CommandResponse)
async def remote_stop(
    request: Request, body: RemoteStopBody, station_id: str = StationId, who: Principal = Depends(operator)
) -> CommandResponse:
    return await _send(request, station_id, "remote_stop", body, who)


@router.post("/stations/{station_id}/unlock", summary="Unlock a connector", response_model=CommandResponse)
async def unlock(request: Request, body: RequiredTarget, station_id: str = StationId, who: Principal = Depends(operator)) -> CommandResponse:
    return await _send(request, station_id, "unlock", body, who)


@router.post(
    "/stations/{station_id}/availability",
    summary="Change availability of a connector, or of the whole station (evse_id 0)",
    response_model=CommandResponse,
)
async def availability(
    request: Request, body: AvailabilityBody, station_id: str = StationId, who: Principal = Depends(operator)
) -> CommandResponse:
    if body.evse_id is None and body.connector_id is None:
        body.evse_id = 0
    return await _send(request, station_id, "change_availability", body, who)


@router.post("/stations/{station_id}/trigger", summary="Ask the station to send a message now", response_model=CommandResponse)
async def trigger(request: Request, body: TriggerBody, station_id: str = StationId, who: Principal = Depends(operator)) -> CommandResponse:
    return await _send(request, station_id, "trigger_message", body, who)


@router.post(
    "/stations/{station_id}/extended-trigger",
    summary="ExtendedTriggerMessage (security extension)",
    response_model=CommandResponse,
)
async def extended_trigger(
    request: Request, body: TriggerBody, station_id: str = StationId, who: Principal = Depends(operator)
) -> CommandResponse:
    return await _send(request, station_id, "extended_trigger_message", body, who)


@router.post("/stations/{station_id}/clear-cache", summary="Clear the station's authorization cache", response_model=CommandResponse)
async def clear_cache(request: Request, station_id: str = StationId, who: Principal = Depends(operator)) -> CommandResponse:
    return await _send(request, station_id, "clear_cache", None, who)


@router.post("/stations/{station_id}/data-transfer", summary="Send a vendor-specific DataTransfer", response_model=CommandResponse)
async def data_transfer(
    request: Request, body: DataTransferBody, station_id: str = StationId, who: Principal = Depends(operator)
) -> CommandResponse:
    services = _services(request)
    answer = await services.commands.send(station_id, "data_transfer", body.model_dump(exclude_none=True), who.name)
    await services.data_transfer.record(
        station_id, "outbound", body.vendor_id, body.message_id, body.data, DataTransferAnswer(answer.status or "", answer.response.get("data"))
    )
    return command_response(answer)


@router.get(
    "/stations/{station_id}/configuration",
    summary="The station's configuration as last reported",
    description="Refreshed in the background after every accepted BootNotification, and by get-configuration.",
    response_model=ConfigurationOut,
)
async def get_stored_configuration(request: Request, station_id: str = StationId, who: Principal = Depends(reader)) -> ConfigurationOut:
    await _services(request).stations.get(station_id)  # 404 for an unknown station
    keys = await _services(request).configuration.stored(station_id)
    return ConfigurationOut(
        station_id=station_id,
        keys=[ConfigurationKeyOut(key=k.key, value=k.value, readonly=k.readonly, updated_at=k.updated_at) for k in keys],
    )


@router.post(
    "/stations/{station_id}/get-configuration",
    summary="Read configuration from the station now (GetConfiguration) and store it",
    response_model=CommandResponse,
)
async def get_configuration(
    request: Request, body: GetConfigurationBody | None = None, station_id: str = StationId, who: Principal = Depends(operator)
) -> CommandResponse:
    answer = await _services(request).configuration.fetch(station_id, who.name, body.keys if body else None)
    return command_response(answer)


@router.patch(
    "/stations/{station_id}/configuration",
    summary="Change one configuration key (ChangeConfiguration)",
    description="`status` is the station's answer: Accepted, Rejected, RebootRequired or NotSupported.",
    response_model=CommandResponse,
)
async def change_configuration(
    request: Request, body: ChangeConfigurationBody, station_id: str = StationId, who: Principal = Depends(operator)
) -> CommandResponse:
    if secret_setting(body.key) and ROLE_RANK[who.role] < ROLE_RANK["admin"]:
        raise HTTPException(403, f"changing {body.key} (a credential) needs the admin role")
    if body.key in STATION_PASSWORD_KEYS and not MIN_PASSWORD_LENGTH <= len(body.value) <= MAX_PASSWORD_LENGTH:
        raise HTTPException(422, f"{body.key} must be {MIN_PASSWORD_LENGTH} to {MAX_PASSWORD_LENGTH} characters")
    change = await _services(request).configuration.change(station_id, body.key, body.value, who.name)
    return command_response(change.answer)


@router.post("/stations/{station_id}/firmware", summary="Update firmware (UpdateFirmware)", response_model=CommandResponse)
async def update_firmware(
    request: Request, body: FirmwareBody, station_id: str = StationId, who: Principal = Depends(operator)
) -> CommandResponse:
    return await _send(request, station_id, "update_firmware", body, who)


@router.post(
    "/stations/{station_id}/firmware/signed",
    summary="Update firmware with a signed image (SignedUpdateFirmware, security extension)",
    response_model=CommandResponse,
)
async def signed_update_firmware(
    request: Request, body: SignedFirmwareBody, station_id: str = StationId, who: Principal = Depends(operator)
) -> CommandResponse:
    return await _send(request, station_id, "signed_update_firmware", body, who)


@router.post("/stations/{station_id}/diagnostics", summary="Request a diagnostics upload (GetDiagnostics)", response_model=CommandResponse)
async def get_diagnostics(
    request: Request, body: DiagnosticsBody, station_id: str = StationId, who: Principal = Depends(operator)
) -> CommandResponse:
    return await _send(request, station_id, "get_diagnostics", body, who)


@router.post("/stations/{station_id}/logs", summary="Request a log upload (GetLog, security extension)", response_model=CommandResponse)
async def get_log(request: Request, body: LogBody, station_id: str = StationId, who: Principal = Depends(operator)) -> CommandResponse:
    return await _send(request, station_id, "get_log", body, who)


@router.post("/stations/{station_id}/certificates", summary="Install a certificate (InstallCertificate)", response_model=CommandResponse)
async def install_certificate(
    request: Request, body: InstallCertificateBody, station_id: str = StationId, who: Principal = Depends(operator)
) -> CommandResponse:
    return await _send(request, station_id, "install_certificate", body, who)


@router.get(
    "/stations/{station_id}/certificates",
    summary="Ask the station which certificates it has installed (GetInstalledCertificateIds)",
    response_model=CommandResponse,
)
async def installed_certificates(
    request: Request,
    station_id: str = StationId,
    certificate_type: Name = Query(description="CentralSystemRootCertificate or ManufacturerRootCertificate"),  # type: ignore[valid-type]
    who: Principal = Depends(operator),
) -> CommandResponse:
    answer = await _services(request).commands.send(
        station_id, "get_installed_certificate_ids", {"certificate_type": certificate_type}, who.name
    )
    return command_response(answer)


@router.post(
    "/stations/{station_id}/certificates/delete", summary="Delete an installed certificate (DeleteCertificate)", response_model=CommandResponse
)
async def delete_certificate(
    request: Request, body: DeleteCertificateBody, station_id: str = StationId, who: Principal = Depends(operator)
) -> CommandResponse:
    return await _send(request, station_id, "delete_certificate", body, who)


@router.post(
    "/stations/{station_id}/certificates/signed",
    summary="Send a signed certificate chain after a SignCertificate (CertificateSigned)",
    response_model=CommandResponse,
)
async def certificate_signed(
    request: Request, body: CertificateSignedBody, station_id: str = StationId, who: Principal = Depends(operator)
) -> CommandResponse:
    return await _send(request, station_id, "certificate_signed", body, who)


@router.get("/stations/{station_id}/commands", summary="Commands sent to a station and their outcomes", response_model=CommandPage)
async def list_commands(
    request: Request,
    page_asked: Paginated,
    station_id: str = StationId,
    operation: Name | None = Query(None, description="Only commands of this operation, e.g. reset"),  # type: ignore[valid-type]
    who: Principal = Depends(reader),
) -> CommandPage:
    page = await _services(request).commands.list(station_id, page_asked.limit, page_asked.offset, operation)
    return CommandPage(items=[CommandRecordOut.model_validate(r) for r in page.items], total=page.total, limit=page.limit, offset=page.offset)
