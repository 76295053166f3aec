"""OCPP 1.6 charger-initiated messages, translated into service calls and back.

Payloads arrive already validated against the official 1.6 schemas (see the RPC core), so handlers
read required fields directly. Each handler returns only after the service has committed.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime, timezone
from typing import Any

import structlog

from kilowatt.ocpp.context import StationContext
from kilowatt.ocpp.timestamps import parse_time
from kilowatt.rpc.errors import ErrorKind, OcppError
from kilowatt.rpc.protocol import IncomingCall
from kilowatt.services.authorization import AuthorizationResult
from kilowatt.services.bundle import Services
from kilowatt.services.common import rfc3339
from kilowatt.services.stations import BootInfo, ConnectorStatus
from kilowatt.services.transactions import (
    MeterSample,
    StartKey,
    TransactionEnded,
    TransactionStarted,
    TransactionUpdated,
    UnknownTransaction,
)

log = structlog.get_logger("kilowatt.ocpp.v16")

# Messages a station that is not (yet) Accepted may still send.
_ALLOWED_BEFORE_ACCEPTED = frozenset({"BootNotification", "Heartbeat", "StatusNotification"})

Payload = dict[str, Any]

MAX_ID_TAG_LENGTH = 20  # 1.6 IdToken is CiString20Type


def evse_of(connector_id: int) -> tuple[int, int]:
    """1.6 connector N is EVSE N with connector 1; connector 0 (the whole station) is EVSE 0, connector 0."""
    return (0, 0) if connector_id == 0 else (connector_id, 1)


# 1.6 ChargePointStatus -> (ConnectorStatus, ChargingState) of the domain (2.0.1's words); migration
# 0007 maps stored rows the same way.
CONNECTOR_STATUS: dict[str, tuple[str, str | None]] = {
    "Available": ("Available", None),
    "Preparing": ("Occupied", "EVConnected"),
    "Charging": ("Occupied", "Charging"),
    "SuspendedEV": ("Occupied", "SuspendedEV"),
    "SuspendedEVSE": ("Occupied", "SuspendedEVSE"),
    "Finishing": ("Occupied", "EVConnected"),
    "Reserved": ("Reserved", None),
    "Unavailable": ("Unavailable", None),
    "Faulted": ("Faulted", None),
}


def id_tag_info(result: AuthorizationResult) -> Payload:
    info: Payload = {"status": result.status}
    if result.expiry_date is not None:
        info["expiryDate"] = rfc3339(result.expiry_date)
    if result.parent_id_token is not None and len(result.parent_id_token) <= MAX_ID_TAG_LENGTH:
        info["parentIdTag"] = result.parent_id_token  # a longer group id cannot be said in 1.6
    return info


def meter_samples(meter_values: list[Payload], field: str) -> tuple[MeterSample, ...]:
    """Flatten 1.6 MeterValue objects (the list in ``field``) into samples, with the spec's
    defaults made explicit."""
    samples: list[MeterSample] = []
    for meter_value in meter_values:
        timestamp = parse_time(meter_value["timestamp"], f"{field}.timestamp")
        for sampled in meter_value["sampledValue"]:
            samples.append(
                MeterSample(
                    timestamp=timestamp,
                    value=sampled["value"],
                    measurand=sampled.get("measurand", "Energy.Active.Import.Register"),
                    context=sampled.get("context", "Sample.Periodic"),
                    unit=sampled.get("unit", "Wh"),
                    phase=sampled.get("phase"),
                    location=sampled.get("location", "Outlet"),
                    format=sampled.get("format", "Raw"),
                )
            )
    return tuple(samples)


class ChargePointHandlers:
    """Handles every OCPP 1.6 (and 1.6 security extension) message a charge point sends."""

    def __init__(self, services: Services):
        self.services = services
        self._routes: dict[str, Callable[[StationContext, Payload], Awaitable[Payload]]] = {
            "BootNotification": self.boot_notification,
            "Heartbeat": self.heartbeat,
            "StatusNotification": self.status_notification,
            "Authorize": self.authorize,
            "StartTransaction": self.start_transaction,
            "MeterValues": self.meter_values,
            "StopTransaction": self.stop_transaction,
            "DataTransfer": self.data_transfer,
            "DiagnosticsStatusNotification": self.diagnostics_status_notification,
            "FirmwareStatusNotification": self.firmware_status_notification,
            "LogStatusNotification": self.log_status_notification,
            "SignedFirmwareStatusNotification": self.signed_firmware_status_notification,
            "SecurityEventNotification": self.security_event_notification,
            "SignCertificate": self.sign_certificate,
        }

    def actions(self) -> frozenset[str]:
        """The station actions routed to a handler (docs/ocpp-coverage.md is generated from it)."""
        return frozenset(self._routes)

    async def handle(self, station: StationContext, call: IncomingCall) -> Payload:
        if station.registration_status != "Accepted" and call.action not in _ALLOWED_BEFORE_ACCEPTED:
            raise OcppError(
                ErrorKind.SECURITY,
                f"station registration is {station.registration_status}; until it is Accepted only BootNotification, "
                "Heartbeat and StatusNotification are processed",
            )
        route = self._routes.get(call.action)
        if route is None:  # in the dialect but not handled here: a CSMS-only action
            raise OcppError(ErrorKind.NOT_SUPPORTED, f"{call.action} is not handled by this CSMS")
        return await route(station, call.payload)

    # --- Core profile -------------------------------------------------------------------------

    async def boot_notification(self, station: StationContext, payload: Payload) -> Payload:
        settings = self.services.settings
        status = await self.services.stations.boot(
            station.station_id,
            BootInfo(
                ocpp_version=station.ocpp_version,
                vendor=payload["chargePointVendor"],
                model=payload["chargePointModel"],
                serial_number=payload.get("chargePointSerialNumber"),
                charge_box_serial_number=payload.get("chargeBoxSerialNumber"),
                firmware_version=payload.get("firmwareVersion"),
                iccid=payload.get("iccid"),
                imsi=payload.get("imsi"),
                meter_type=payload.get("meterType"),
                meter_serial_number=payload.get("meterSerialNumber"),
            ),
        )
        station.registration_status = status
        if status == "Accepted":
            # Learn the station's configuration after answering; the answer must not wait for it.
            self.services.configuration.fetch_in_background(station.station_id)
        interval = settings.heartbeat_interval_s if status == "Accepted" else settings.boot_retry_interval_s
        return {"status": status, "currentTime": _now(), "interval": interval}

    async def heartbeat(self, station: StationContext, payload: Payload) -> Payload:
        await self.services.stations.heartbeat(station.station_id)
        return {"currentTime": _now()}

    async def status_notification(self, station: StationContext, payload: Payload) -> Payload:
        evse_id, connector_id = evse_of(payload["connectorId"])
        timestamp = payload.get("timestamp")
        connector_status, charging_state = CONNECTOR_STATUS[payload["status"]]
        await self.services.stations.status_notification(
            station.station_id,
            ConnectorStatus(
                evse_id=evse_id,
                connector_id=connector_id,
                status=payload["status"],
                connector_status=connector_status,
                charging_state=charging_state,
                error_code=payload["errorCode"],
                info=payload.get("info"),
                vendor_id=payload.get("vendorId"),
                vendor_error_code=payload.get("vendorErrorCode"),
                timestamp=parse_time(timestamp) if timestamp else None,
            ),
        )
        return {}

    async def authorize(self, station: StationContext, payload: Payload) -> Payload:
        result = await self.services.authorization.authorize(payload["idTag"])
        return {"idTagInfo": id_tag_info(result)}

    # Transactions: each message becomes one canonical event (see services/transactions.py). The
    # 1.6 transactionId is our id, so these events name the transaction by it and carry no station
    # transaction id; a start is idempotent by (station, EVSE, idTag, timestamp), a stop by the
    # transaction having ended, and MeterValues have no key in 1.6.

    async def start_transaction(self, station: StationContext, payload: Payload) -> Payload:
        connector = payload["connectorId"]
        if connector < 1:
            raise OcppError(ErrorKind.PROPERTY_CONSTRAINT, "connectorId must be 1 or more for StartTransaction")
        evse_id, connector_id = evse_of(connector)
        id_tag, started_at = payload["idTag"], parse_time(payload["timestamp"])
        outcome = await self.services.transactions.apply(
            TransactionStarted(
                station_id=station.station_id,
                evse_id=evse_id,
                connector_id=connector_id,
                timestamp=started_at,
                id_token=id_tag,
                meter_start_wh=payload["meterStart"],
                reservation_id=payload.get("reservationId"),
                key=StartKey(station.station_id, evse_id, id_tag, started_at),
            )
        )
        assert outcome.ref is not None and outcome.authorization is not None
        if outcome.duplicate:
            log.info("StartTransaction replayed", transaction_id=outcome.ref.id)
        return {"transactionId": outcome.ref.id, "idTagInfo": id_tag_info(outcome.authorization)}

    async def meter_values(self, station: StationContext, payload: Payload) -> Payload:
        evse_id, connector_id = evse_of(payload["connectorId"])
        transaction_id = payload.get("transactionId")
        samples = meter_samples(payload["meterValue"], "meterValue")
        if transaction_id is None:
            await self.services.transactions.record_meter_values(station.station_id, evse_id, connector_id, list(samples))
            return {}
        outcome = await self.services.transactions.apply(
            TransactionUpdated(
                station_id=station.station_id,
                timestamp=samples[0].timestamp if samples else datetime.now(timezone.utc),
                transaction_id=transaction_id,
                evse_id=evse_id,
                connector_id=connector_id,
                samples=samples,
            )
        )
        if outcome.ref is None:
            log.warning("MeterValues for an unknown transaction stored unlinked", transaction_id=transaction_id)
        return {}

    async def stop_transaction(self, station: StationContext, payload: Payload) -> Payload:
        id_tag = payload.get("idTag")
        try:
            outcome = await self.services.transactions.apply(
                TransactionEnded(
                    station_id=station.station_id,
                    timestamp=parse_time(payload["timestamp"]),
                    transaction_id=payload["transactionId"],
                    id_token=id_tag,
                    meter_stop_wh=payload["meterStop"],
                    reason=payload.get("reason", "Local"),  # 1.6: reason may be omitted only when Local
                    samples=meter_samples(payload.get("transactionData", []), "transactionData"),
                )
            )
        except UnknownTransaction as exc:
            raise OcppError(ErrorKind.PROPERTY_CONSTRAINT, str(exc), {"field": "transactionId"}) from None
        if outcome.authorization is None:
            return {}
        return {"idTagInfo": id_tag_info(outcome.authorization)}

    async def data_transfer(self, station: StationContext, payload: Payload) -> Payload:
        answer = await self.services.data_transfer.inbound(
            station.station_id, payload["vendorId"], payload.get("messageId"), payload.get("data")
        )
        return {"status": answer.status} if answer.data is None else {"status": answer.status, "data": answer.data}

    # --- Firmware management and the security extension -------------------------------------

    async def diagnostics_status_notification(self, station: StationContext, payload: Payload) -> Payload:
        await self.services.stations.record_event(station.station_id, "diagnostics", payload["status"])
        return {}

    async def firmware_status_notification(self, station: StationContext, payload: Payload) -> Payload:
        await self.services.stations.record_event(station.station_id, "firmware", payload["status"])
        return {}

    async def log_status_notification(self, station: StationContext, payload: Payload) -> Payload:
        await self.services.stations.record_event(station.station_id, "log", payload["status"], payload.get("requestId"))
        return {}

    async def signed_firmware_status_notification(self, station: StationContext, payload: Payload) -> Payload:
        await self.services.stations.record_event(
            station.station_id, "firmware", payload["status"], payload.get("requestId"), {"signed": True}
        )
        return {}

    async def security_event_notification(self, station: StationContext, payload: Payload) -> Payload:
        # A repeat (same type, timestamp and techInfo) is answered alike and stores nothing.
        await self.services.stations.security_event(station.station_id, payload["type"], payload["timestamp"], payload.get("techInfo"))
        return {}

    async def sign_certificate(self, station: StationContext, payload: Payload) -> Payload:
        # The CSR is kept for the operator; no certificate authority is configured to sign it yet.
        await self.services.stations.record_event(
            station.station_id, "sign_certificate", "Rejected", None, {"csr": payload["csr"]}
        )
        return {"status": "Rejected"}


def _now() -> str:
    return rfc3339(datetime.now(timezone.utc))
