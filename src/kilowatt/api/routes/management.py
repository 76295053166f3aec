"""Remote operations OCPP 1.6 has no counterpart for (OCPP 2.0.1 on): reports, monitoring, charging
profile reports, firmware publishing, network profiles, customer information, transaction status,
display messages and cost updates — one table, generated like :mod:`remote_operations`.

Operations whose results arrive later in messages of their own (NotifyReport, NotifyMonitoringReport,
ReportChargingProfiles, NotifyDisplayMessages, NotifyCustomerInformation,
PublishFirmwareStatusNotification) take an optional ``request_id``; Kilowatt picks one when it is
omitted, and the reply names it. Transactions are named by Kilowatt's id; the station is sent its own.
A 1.6 station gets 422 for every one of them.

This module deliberately does not use ``from __future__ import annotations`` (FastAPI reads the
annotations of the generated endpoints).
"""

import random
from enum import Enum
from typing import Any, Literal

from fastapi import APIRouter, HTTPException
from pydantic import ConfigDict, Field, model_validator

from kilowatt.api.auth import ROLE_RANK, Principal
from kilowatt.api.command_answers import CommandResponse
from kilowatt.api.errors import error_responses
from kilowatt.api.routes.remote_operations import (
    Body,
    CertificateHashDataBody,
    IdTokenTypeName,
    Name,
    Operation,
    Uri,
    add_routes,
    transaction_ref,
)
from kilowatt.api.routes.remote_operations import _hash_data as hash_data
from kilowatt.api.schemas import (
    BoundedInt,
    Float,
    IdTokenValue,
    Int32,
    NonNegativeInt32,
    PositiveInt32,
    PrintableText,
    Text,
    UtcInput,
)
from kilowatt.commands import model as m
from kilowatt.services.bundle import Services
from kilowatt.services.command_service import CommandAnswer
from kilowatt.services.station_reports import CHARGING_PROFILES, CUSTOMER_INFORMATION, DEVICE_MODEL, DISPLAY_MESSAGES, MONITORING

router = APIRouter(tags=["remote operations"], responses=error_responses(403, 404, 413, command=True))

MAX_ITEMS = 100
EvseId = BoundedInt(0, 1000)
Instance = PrintableText(50)
Severity = BoundedInt(0, 9)


def _names(kind: type[Enum]) -> Any:
    """A domain enum offered as its values (bodies are strict: a JSON string is not an enum member)."""
    return Literal[tuple(item.value for item in kind)]  # type: ignore[misc]


RequestId = Field(
    None,
    description="Tags the messages the station answers with later; Kilowatt picks one when omitted. One that "
    "already tagged a report of this kind from the station is refused (409): its parts would be taken for replays",
)


class Requested(CommandResponse[m.StatusResult]):
    request_id: int = Field(description="The requestId sent: the station's later messages carry it")


def _request_id(value: int | None) -> int:
    return value if value is not None else random.randint(1, 2**31 - 1)


def _requested(answer: CommandAnswer[Any]) -> dict[str, Any]:
    return {"request_id": answer.command.request_id}


class ComponentBody(Body):
    component: Name  # type: ignore[valid-type]
    component_instance: Instance | None = None  # type: ignore[valid-type]
    evse_id: EvseId | None = Field(None, description="The EVSE the component is on (omit or 0: the station)")  # type: ignore[valid-type]
    connector_id: EvseId | None = None  # type: ignore[valid-type]

    def component_ref(self) -> m.ComponentRef:
        return m.ComponentRef(self.component, self.component_instance, self.evse_id or None, self.connector_id)


class ComponentVariableBody(ComponentBody):
    variable: Name | None = Field(None, description="Every variable of the component when omitted")  # type: ignore[valid-type]
    variable_instance: Instance | None = None  # type: ignore[valid-type]

    def to_domain(self) -> m.ComponentVariable:
        variable = m.VariableRef(self.variable, self.variable_instance) if self.variable else None
        return m.ComponentVariable(self.component_ref(), variable)


# --- reports -----------------------------------------------------------------------------------------


class BaseReportBody(Body):
    report_base: _names(m.ReportBase)  # type: ignore[valid-type]
    request_id: Int32 | None = RequestId


class ReportBody(Body):
    request_id: Int32 | None = RequestId
    component_criteria: list[_names(m.ComponentCriterion)] = Field(default_factory=list, max_length=4)  # type: ignore[valid-type]
    component_variables: list[ComponentVariableBody] = Field(default_factory=list, max_length=MAX_ITEMS)


# --- monitoring --------------------------------------------------------------------------------------


class MonitorBody(ComponentBody):
    variable: Name  # type: ignore[valid-type]
    variable_instance: Instance | None = None  # type: ignore[valid-type]
    type: _names(m.MonitorType)  # type: ignore[valid-type]
    value: Float = Field(ge=-1e15, le=1e15, description="Threshold, delta, or interval in seconds, as `type` says")
    severity: Severity = Field(description="0 (Danger) to 9 (Debug)")  # type: ignore[valid-type]
    id: Int32 | None = Field(None, description="Replace this monitor; a new one when omitted")
    transaction: bool | None = Field(None, description="Only while a transaction runs")

    def to_domain(self) -> m.MonitorSetting:
        return m.MonitorSetting(
            self.component_ref(),
            m.VariableRef(self.variable, self.variable_instance),
            m.MonitorType(self.type),
            self.value,
            self.severity,
            self.id,
            self.transaction,
        )


class SetMonitoringBody(Body):
    monitors: list[MonitorBody] = Field(min_length=1, max_length=MAX_ITEMS)


class ClearMonitoringBody(Body):
    ids: list[Int32] = Field(min_length=1, max_length=MAX_ITEMS)


class MonitoringBaseBody(Body):
    monitoring_base: _names(m.MonitoringBase)  # type: ignore[valid-type]


class MonitoringLevelBody(Body):
    severity: Severity = Field(description="Report events of this severity and more severe: 0 (Danger) to 9 (Debug)")  # type: ignore[valid-type]


class MonitoringReportBody(Body):
    request_id: Int32 | None = RequestId
    monitoring_criteria: list[_names(m.MonitoringCriterion)] = Field(default_factory=list, max_length=3)  # type: ignore[valid-type]
    component_variables: list[ComponentVariableBody] = Field(default_factory=list, max_length=MAX_ITEMS)


# --- smart charging, firmware ------------------------------------------------------------------------


class ChargingProfilesReportBody(Body):
    request_id: Int32 | None = RequestId
    evse_id: NonNegativeInt32 | None = Field(None, description="Omitted: every EVSE; 0: the station-wide profiles")
    charging_profile_purpose: Literal["ChargingStationMaxProfile", "TxDefaultProfile", "TxProfile"] | None = None
    stack_level: NonNegativeInt32 | None = None
    charging_profile_ids: list[Int32] = Field(default_factory=list, max_length=MAX_ITEMS)
    charging_limit_sources: list[_names(m.ChargingLimitSource)] = Field(default_factory=list, max_length=4)  # type: ignore[valid-type]


Checksum = PrintableText(32, min_length=1)


class PublishFirmwareBody(Body):
    location: Uri  # type: ignore[valid-type]
    checksum: Checksum = Field(description="MD5 of the firmware file, hex")  # type: ignore[valid-type]
    request_id: Int32 | None = RequestId
    retries: NonNegativeInt32 | None = None
    retry_interval: NonNegativeInt32 | None = Field(None, description="Seconds")


class UnpublishFirmwareBody(Body):
    checksum: Checksum  # type: ignore[valid-type]


# --- network profile ---------------------------------------------------------------------------------


class ApnBody(Body):
    apn: Text(512, min_length=1)  # type: ignore[valid-type]
    apn_authentication: _names(m.ApnAuthentication)  # type: ignore[valid-type]
    apn_user_name: PrintableText(20) | None = None  # type: ignore[valid-type]
    apn_password: Text(20) | None = None  # type: ignore[valid-type]
    sim_pin: NonNegativeInt32 | None = None
    preferred_network: PrintableText(6) | None = None  # type: ignore[valid-type]
    use_only_preferred_network: bool | None = None


class VpnBody(Body):
    server: Text(512, min_length=1)  # type: ignore[valid-type]
    user: PrintableText(20, min_length=1)  # type: ignore[valid-type]
    group: PrintableText(20) | None = None  # type: ignore[valid-type]
    password: Text(20)  # type: ignore[valid-type]
    key: Text(255) = Field(description="The shared secret")  # type: ignore[valid-type]
    type: _names(m.VpnType)  # type: ignore[valid-type]


class ConnectionDataBody(Body):
    ocpp_version: _names(m.NetworkOcppVersion)  # type: ignore[valid-type]
    ocpp_transport: _names(m.OcppTransport)  # type: ignore[valid-type]
    ocpp_csms_url: Uri  # type: ignore[valid-type]
    message_timeout: NonNegativeInt32 = Field(description="Seconds")
    security_profile: BoundedInt(0, 3)  # type: ignore[valid-type]
    ocpp_interface: _names(m.OcppInterface)  # type: ignore[valid-type]
    apn: ApnBody | None = None
    vpn: VpnBody | None = None

    def to_domain(self) -> m.NetworkProfile:
        apn = self.apn
        vpn = self.vpn
        return m.NetworkProfile(
            m.NetworkOcppVersion(self.ocpp_version),
            m.OcppTransport(self.ocpp_transport),
            self.ocpp_csms_url,
            self.message_timeout,
            self.security_profile,
            m.OcppInterface(self.ocpp_interface),
            m.Apn(
                apn.apn,
                m.ApnAuthentication(apn.apn_authentication),
                apn.apn_user_name,
                apn.apn_password,
                apn.sim_pin,
                apn.preferred_network,
                apn.use_only_preferred_network,
            )
            if apn
            else None,
            m.Vpn(vpn.server, vpn.user, vpn.password, vpn.key, m.VpnType(vpn.type), vpn.group) if vpn else None,
        )


class NetworkProfileBody(Body):
    configuration_slot: NonNegativeInt32 = Field(description="Which slot of NetworkConfigurationPriority to fill")
    connection_data: ConnectionDataBody


# --- customers, transactions, display messages, cost ---------------------------------------------------

_ONE = "Exactly one of customer_identifier, id_token and customer_certificate; omit the others"


class CustomerInformationBody(Body):
    """Exactly one of ``customer_identifier``, ``id_token`` and ``customer_certificate`` names the
    customer (stated in the JSON schema too: omit the others rather than sending null)."""

    model_config = ConfigDict(
        json_schema_extra={
            "oneOf": [{"required": ["customer_identifier"]}, {"required": ["id_token"]}, {"required": ["customer_certificate"]}]
        }
    )

    request_id: Int32 | None = RequestId
    report: bool = Field(description="Send what the station keeps about the customer (NotifyCustomerInformation)")
    clear: bool = Field(description="Delete it")
    customer_identifier: PrintableText(64, min_length=1) = Field(None, description=_ONE)  # type: ignore[valid-type]
    id_token: IdTokenValue = Field(None, description=_ONE)  # type: ignore[assignment]
    id_token_type: IdTokenTypeName = Field(None, description="ISO14443 when omitted")  # type: ignore[valid-type]
    customer_certificate: CertificateHashDataBody = Field(None, description=_ONE)  # type: ignore[assignment]

    @model_validator(mode="after")
    def _one_customer(self) -> "CustomerInformationBody":
        named = [x for x in (self.customer_identifier, self.id_token, self.customer_certificate) if x is not None]
        if len(named) != 1:
            raise ValueError("name the customer by exactly one of customer_identifier, id_token, customer_certificate")
        return self


class TransactionStatusBody(Body):
    transaction_id: PositiveInt32 | None = Field(
        None, description="Kilowatt's transaction id; omitted: whether any message is queued"
    )  # type: ignore[valid-type]


class MessageContentBody(Body):
    content: Text(512, min_length=1)  # type: ignore[valid-type]
    format: _names(m.MessageFormat) = "UTF8"  # type: ignore[valid-type]
    language: PrintableText(8) | None = Field(None, description="RFC 5646 tag, e.g. en")  # type: ignore[valid-type]


class DisplayMessageBody(Body):
    id: Int32 = Field(description="The message's id at the station; the same id replaces it")
    priority: _names(m.MessagePriority)  # type: ignore[valid-type]
    message: MessageContentBody
    state: _names(m.MessageState) | None = Field(None, description="Only show it in this state")  # type: ignore[valid-type]
    start_date_time: UtcInput | None = None
    end_date_time: UtcInput | None = None
    transaction_id: PositiveInt32 | None = Field(None, description="Only show it during this transaction (Kilowatt's id)")  # type: ignore[valid-type]
    display: ComponentBody | None = Field(None, description="Which display (a Display component), when the station has several")


class DisplayMessagesReportBody(Body):
    request_id: Int32 | None = RequestId
    ids: list[Int32] = Field(default_factory=list, max_length=MAX_ITEMS)
    priority: _names(m.MessagePriority) | None = None  # type: ignore[valid-type]
    state: _names(m.MessageState) | None = None  # type: ignore[valid-type]


class ClearDisplayMessageBody(Body):
    id: Int32


class CostUpdateBody(Body):
    transaction_id: PositiveInt32 = Field(description="Kilowatt's transaction id")  # type: ignore[valid-type]
    total_cost: Float = Field(ge=-1e12, le=1e12, description="The running total, in the station's configured currency")


# --- commands needing a transaction looked up ------------------------------------------------------------


async def _network_profile(services: Services, station_id: str, body: NetworkProfileBody, who: Principal) -> CommandAnswer[Any]:
    if ROLE_RANK[who.role] < ROLE_RANK["admin"]:  # as for a credential: checked after the body, like PATCH configuration
        raise HTTPException(403, "setting a network profile (where the station connects, with credentials) needs the admin role")
    command = m.SetNetworkProfile(body.configuration_slot, body.connection_data.to_domain())
    return await services.commands.send(station_id, command, who.name)


async def _transaction_status(
    services: Services, station_id: str, body: TransactionStatusBody, who: Principal
) -> CommandAnswer[Any]:
    ref = await transaction_ref(services, station_id, body.transaction_id)
    return await services.commands.send(station_id, m.GetTransactionStatus(ref), who.name)


async def _display_message(services: Services, station_id: str, body: DisplayMessageBody, who: Principal) -> CommandAnswer[Any]:
    message = m.DisplayMessage(
        body.id,
        m.MessagePriority(body.priority),
        body.message.content,
        m.MessageFormat(body.message.format),
        body.message.language,
        m.MessageState(body.state) if body.state else None,
        body.start_date_time,
        body.end_date_time,
        await transaction_ref(services, station_id, body.transaction_id),
        body.display.component_ref() if body.display else None,
    )
    return await services.commands.send(station_id, m.SetDisplayMessage(message), who.name)


async def _cost_update(services: Services, station_id: str, body: CostUpdateBody, who: Principal) -> CommandAnswer[Any]:
    ref = await transaction_ref(services, station_id, body.transaction_id)
    assert ref is not None
    return await services.commands.send(station_id, m.CostUpdated(ref, body.total_cost), who.name)


async def _get_base_report(services: Services, station_id: str, body: BaseReportBody, who: Principal) -> CommandAnswer[Any]:
    """Through the device model's service: a FullInventory replaces the stored device model once complete."""
    return await services.configuration.request_report(
        station_id, m.ReportBase(body.report_base), who.name, _request_id(body.request_id)
    )


OPERATIONS: tuple[Operation, ...] = (
    Operation(
        "get_base_report",
        "reports/base",
        "Ask for a base report of the device model (GetBaseReport); it arrives in NotifyReport messages",
        BaseReportBody,
        None,
        run=_get_base_report,
        response=Requested,
        extra=_requested,
        report=DEVICE_MODEL,
    ),
    Operation(
        "get_report",
        "reports",
        "Ask for a report of chosen components and variables (GetReport); it arrives in NotifyReport messages",
        ReportBody,
        lambda b: m.GetReport(
            _request_id(b.request_id),
            tuple(m.ComponentCriterion(c) for c in b.component_criteria),
            tuple(cv.to_domain() for cv in b.component_variables),
        ),
        response=Requested,
        extra=_requested,
        report=DEVICE_MODEL,
    ),
    Operation(
        "set_variable_monitoring",
        "monitoring",
        "Set variable monitors (SetVariableMonitoring)",
        SetMonitoringBody,
        lambda b: m.SetVariableMonitoring(tuple(x.to_domain() for x in b.monitors)),
        m.SetVariableMonitoringResult,
    ),
    Operation(
        "clear_variable_monitoring",
        "monitoring/clear",
        "Remove variable monitors by id (ClearVariableMonitoring)",
        ClearMonitoringBody,
        lambda b: m.ClearVariableMonitoring(tuple(b.ids)),
        m.ClearVariableMonitoringResult,
    ),
    Operation(
        "set_monitoring_base",
        "monitoring/base",
        "Choose which preconfigured monitors are active (SetMonitoringBase)",
        MonitoringBaseBody,
        lambda b: m.SetMonitoringBase(m.MonitoringBase(b.monitoring_base)),
    ),
    Operation(
        "set_monitoring_level",
        "monitoring/level",
        "Choose the least severe events the station reports (SetMonitoringLevel)",
        MonitoringLevelBody,
        lambda b: m.SetMonitoringLevel(b.severity),
    ),
    Operation(
        "get_monitoring_report",
        "monitoring/report",
        "Ask for a report of the monitors set (GetMonitoringReport); it arrives in NotifyMonitoringReport messages",
        MonitoringReportBody,
        lambda b: m.GetMonitoringReport(
            _request_id(b.request_id),
            tuple(m.MonitoringCriterion(c) for c in b.monitoring_criteria),
            tuple(cv.to_domain() for cv in b.component_variables),
        ),
        response=Requested,
        extra=_requested,
        report=MONITORING,
    ),
    Operation(
        "get_charging_profiles",
        "reports/charging-profiles",
        "Ask which charging profiles the station has installed (GetChargingProfiles); they arrive in ReportChargingProfiles",
        ChargingProfilesReportBody,
        lambda b: m.GetChargingProfiles(
            _request_id(b.request_id),
            m.ChargingProfileCriteria(
                m.ChargingProfilePurpose(b.charging_profile_purpose) if b.charging_profile_purpose else None,
                b.stack_level,
                tuple(b.charging_profile_ids),
                tuple(m.ChargingLimitSource(s) for s in b.charging_limit_sources),
            ),
            b.evse_id,
        ),
        response=Requested,
        extra=_requested,
        report=CHARGING_PROFILES,
    ),
    Operation(
        "publish_firmware",
        "firmware/publish",
        "Ask a local controller to publish a firmware file to the stations behind it (PublishFirmware)",
        PublishFirmwareBody,
        lambda b: m.PublishFirmware(b.location, b.checksum, _request_id(b.request_id), b.retries, b.retry_interval),
        response=Requested,
        extra=_requested,
    ),
    Operation(
        "unpublish_firmware",
        "firmware/unpublish",
        "Stop publishing a firmware file (UnpublishFirmware)",
        UnpublishFirmwareBody,
        lambda b: m.UnpublishFirmware(b.checksum),
        description="`status`: Unpublished, NoFirmware or DownloadOngoing.",
    ),
    Operation(
        "set_network_profile",
        "network-profile",
        "Store a network connection profile on the station (SetNetworkProfile; admin role)",
        NetworkProfileBody,
        None,
        description="It can point the station at another CSMS and carries credentials (APN, VPN), hence the admin"
        " role; the command log keeps them as ***.",
        run=_network_profile,
    ),
    Operation(
        "customer_information",
        "customer-information",
        "Ask for, or clear, what the station keeps about a customer (CustomerInformation)",
        CustomerInformationBody,
        lambda b: m.CustomerInformation(
            _request_id(b.request_id),
            b.report,
            b.clear,
            b.customer_identifier,
            b.id_token,
            m.IdTokenType(b.id_token_type) if b.id_token_type else None,
            hash_data(b.customer_certificate) if b.customer_certificate else None,
        ),
        response=Requested,
        extra=_requested,
        report=CUSTOMER_INFORMATION,
    ),
    Operation(
        "get_transaction_status",
        "transaction-status",
        "Ask whether a transaction still runs and whether the station holds queued messages (GetTransactionStatus)",
        TransactionStatusBody,
        None,
        m.GetTransactionStatusResult,
        run=_transaction_status,
    ),
    Operation(
        "set_display_message",
        "display-messages",
        "Show a message on the station's display (SetDisplayMessage)",
        DisplayMessageBody,
        None,
        run=_display_message,
    ),
    Operation(
        "get_display_messages",
        "display-messages/report",
        "Ask which display messages the station holds (GetDisplayMessages); they arrive in NotifyDisplayMessages",
        DisplayMessagesReportBody,
        lambda b: m.GetDisplayMessages(
            _request_id(b.request_id),
            tuple(b.ids),
            m.MessagePriority(b.priority) if b.priority else None,
            m.MessageState(b.state) if b.state else None,
        ),
        response=Requested,
        extra=_requested,
        report=DISPLAY_MESSAGES,
    ),
    Operation(
        "clear_display_message",
        "display-messages/clear",
        "Remove a display message (ClearDisplayMessage)",
        ClearDisplayMessageBody,
        lambda b: m.ClearDisplayMessage(b.id),
    ),
    Operation(
        "cost_updated",
        "cost-update",
        "Tell the station a transaction's running cost (CostUpdated)",
        CostUpdateBody,
        None,
        m.EmptyResult,
        run=_cost_update,
    ),
)
add_routes(router, OPERATIONS)
