"""OCPP 1.6J for a simulated station: the runtime's events as 1.6 messages, 1.6 commands as runtime calls.

Everything that knows 1.6 field names lives here (and the key table in
:mod:`kilowatt.simulator.v16_configuration`). Outgoing payloads are checked against the official
schemas by :class:`~kilowatt.rpc.protocol.RpcProtocol` before they leave, and incoming commands
before they reach :meth:`V16Adapter.handle`, so this module trusts the shapes it is given.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from kilowatt.ocpp.v16.dialect import DIALECT, SUBPROTOCOL
from kilowatt.rpc.errors import ErrorKind, OcppError
from kilowatt.rpc.protocol import IncomingCall
from kilowatt.simulator.adapter import BootAnswer, ProtocolAdapter
from kilowatt.simulator.charging_profiles import ChargingProfile, Kind, Purpose, SchedulePeriod
from kilowatt.simulator.clock import parse_timestamp, timestamp
from kilowatt.simulator.configuration import ConfigurationStore
from kilowatt.simulator.energy import amps_to_watts
from kilowatt.simulator.model import ConnectorStatus, Session, SessionPhase, StopReason
from kilowatt.simulator.offline import QueuedMessage
from kilowatt.simulator.v16_configuration import DEFAULT_MEASURANDS, KEYS

if TYPE_CHECKING:
    from kilowatt.simulator.station import SimulatedStation

VOLTAGE_V = 230.0
PHASES = 3
VENDOR_ID = "org.kilowatt.simulator"  # DataTransfer vendor this simulator answers


class V16Adapter(ProtocolAdapter):
    """A station speaking OCPP 1.6J."""

    subprotocol = SUBPROTOCOL
    dialect = DIALECT

    def __init__(self, station: SimulatedStation):
        super().__init__(station)
        self.configuration = ConfigurationStore(KEYS, self)
        self.measurands: tuple[str, ...] = tuple(DEFAULT_MEASURANDS.split(","))
        self._handlers: dict[str, Callable[[dict[str, Any]], Awaitable[dict[str, Any]]]] = {
            "RemoteStartTransaction": self._remote_start,
            "RemoteStopTransaction": self._remote_stop,
            "Reset": self._reset,
            "ChangeConfiguration": self._change_configuration,
            "GetConfiguration": self._get_configuration,
            "SetChargingProfile": self._set_charging_profile,
            "ClearChargingProfile": self._clear_charging_profile,
            "GetCompositeSchedule": self._get_composite_schedule,
            "UnlockConnector": self._unlock_connector,
            "TriggerMessage": self._trigger_message,
            "ReserveNow": self._reserve_now,
            "CancelReservation": self._cancel_reservation,
            "ChangeAvailability": self._change_availability,
            "DataTransfer": self._data_transfer,
            "ClearCache": self._clear_cache,
            "GetLocalListVersion": self._get_local_list_version,
            "SendLocalList": self._send_local_list,
        }

    # --- station -> CSMS ------------------------------------------------------------------------

    async def boot(self) -> BootAnswer:
        station = self.station
        config = station.config
        response = await station.call(
            "BootNotification",
            {
                "chargePointVendor": config.vendor[:20],
                "chargePointModel": config.model[:20],
                "chargePointSerialNumber": station.station_id[:25],
                "firmwareVersion": config.firmware_version[:50],
            },
        )
        if response is None:
            return BootAnswer(None, 0.0)
        return BootAnswer(response["status"], float(response["interval"]))

    async def heartbeat(self) -> None:
        await self.station.call("Heartbeat", {})

    async def status_notification(self, connector_id: int, status: ConnectorStatus, error_code: str | None) -> bool:
        payload = {
            "connectorId": connector_id,
            "errorCode": error_code or "NoError",
            "status": status.value,
            "timestamp": timestamp(),
        }
        return await self.station.call("StatusNotification", payload) is not None

    async def authorize(self, id_token: str, id_token_type: str = "ISO14443") -> bool | None:
        if not self.station.ready:
            return None
        response = await self.station.call("Authorize", {"idTag": id_token})
        if response is None:
            return None
        return response["idTagInfo"]["status"] == "Accepted"

    def transaction_started(self, session: Session) -> None:
        payload: dict[str, Any] = {
            "connectorId": session.connector_id,
            "idTag": session.id_token,
            "meterStart": session.meter_start_wh,
            "timestamp": timestamp(session.started_at),
        }
        if session.reservation_id is not None:
            payload["reservationId"] = session.reservation_id
        self.station.enqueue("StartTransaction", payload, session)

    def _transaction_id(self, session: Session) -> int:
        tid = session.transaction_id
        return tid if isinstance(tid, int) else session.placeholder_transaction_id

    def meter_values(self, session: Session, context: str) -> None:
        if session.orphaned:
            return
        connector = self.station.model.connector(session.connector_id)
        assert connector is not None
        payload = {
            "connectorId": session.connector_id,
            "transactionId": self._transaction_id(session),
            "meterValue": [self._sample(connector.connector_id, session, context)],
        }
        self.station.enqueue("MeterValues", payload, session)

    async def connector_meter_values(self, connector_id: int, context: str) -> None:
        payload = {"connectorId": connector_id, "meterValue": [self._sample(connector_id, None, context)]}
        await self.station.call("MeterValues", payload)

    def _sample(self, connector_id: int, session: Session | None, context: str) -> dict[str, Any]:
        station = self.station
        connector = station.model.connector(connector_id)
        power_w = session.power_w if session is not None else 0.0
        sampled: list[dict[str, Any]] = []
        for measurand in self.measurands:
            if measurand == "Energy.Active.Import.Register":
                meter_wh = connector.meter_wh if connector is not None else 0.0
                sampled.append(_value(str(int(meter_wh)), context, measurand, "Wh", "Outlet"))
            elif measurand == "Power.Active.Import":
                sampled.append(_value(f"{power_w:.1f}", context, measurand, "W", "Outlet"))
            elif measurand == "Current.Import":
                sampled.append(_value(f"{power_w / (VOLTAGE_V * PHASES):.1f}", context, measurand, "A", "Outlet"))
            elif measurand == "Voltage":
                sampled.append(_value(f"{VOLTAGE_V:.1f}", context, measurand, "V", "Outlet"))
            elif measurand in ("Power.Offered", "Current.Offered") and connector is not None:
                offered_w = station.limit_w(connector, session)
                if measurand == "Power.Offered":
                    sampled.append(_value(f"{offered_w:.1f}", context, measurand, "W", "Outlet"))
                else:
                    sampled.append(_value(f"{offered_w / (VOLTAGE_V * PHASES):.1f}", context, measurand, "A", "Outlet"))
            elif measurand == "SoC" and session is not None:
                sampled.append(_value(f"{session.ev.soc * 100:.0f}", context, measurand, "Percent", "EV"))
        return {"timestamp": timestamp(), "sampledValue": sampled}

    def transaction_stopped(self, session: Session) -> None:
        if session.orphaned:
            return
        connector = self.station.model.connector(session.connector_id)
        assert connector is not None
        reason = session.stop_reason or StopReason.LOCAL
        payload: dict[str, Any] = {
            "transactionId": self._transaction_id(session),
            "idTag": session.id_token,
            "meterStop": session.meter_stop_wh if session.meter_stop_wh is not None else int(connector.meter_wh),
            "timestamp": timestamp(),
            "reason": reason.value,
        }
        self.station.enqueue("StopTransaction", payload, session)

    def transaction_message_answered(self, message: QueuedMessage, response: dict[str, Any]) -> None:
        station = self.station
        session: Session | None = message.context
        if message.action == "StartTransaction" and session is not None:
            session.transaction_id = response["transactionId"]
            station.queue.resolve(session.key, session.transaction_id)
            if response["idTagInfo"]["status"] != "Accepted":
                station.stats.rejected["StartTransaction"] += 1
                if self.configuration.flag("StopTransactionOnInvalidId") and session.phase is SessionPhase.ACTIVE:
                    station.post(lambda: station.end_session(session, StopReason.DEAUTHORIZED))
        elif message.action == "StopTransaction" and session is not None:
            station.session_completed(session)

    def transaction_message_failed(self, message: QueuedMessage) -> None:
        session: Session | None = message.context
        if message.action == "StartTransaction" and session is not None:
            # without a transactionId nothing else of this session can be delivered
            session.orphaned = True
            removed = self.station.queue.discard_session(session.key)
            self.station.stats.messages_dropped += removed

    # --- CSMS -> station ------------------------------------------------------------------------

    async def handle(self, call: IncomingCall) -> dict[str, Any]:
        handler = self._handlers.get(call.action)
        if handler is None:
            raise OcppError(ErrorKind.NOT_SUPPORTED, f"{call.action} is not supported by this simulator")
        return await handler(call.payload)

    async def _remote_start(self, payload: dict[str, Any]) -> dict[str, Any]:
        station = self.station
        connector_id = payload.get("connectorId")
        if connector_id == 0:
            return {"status": "Rejected"}
        profile_payload = payload.get("chargingProfile")
        if profile_payload is not None and profile_payload["chargingProfilePurpose"] != Purpose.TX.value:
            return {"status": "Rejected"}
        session = station.remote_start(
            connector_id, payload["idTag"], authorize=self.configuration.flag("AuthorizeRemoteTxRequests")
        )
        if session is None:
            return {"status": "Rejected"}
        if profile_payload is not None:
            station.install_profile(_profile(profile_payload, session.connector_id))
        return {"status": "Accepted"}

    async def _remote_stop(self, payload: dict[str, Any]) -> dict[str, Any]:
        return {"status": "Accepted" if self.station.remote_stop(payload["transactionId"]) else "Rejected"}

    async def _reset(self, payload: dict[str, Any]) -> dict[str, Any]:
        self.station.reset(hard=payload["type"] == "Hard")
        return {"status": "Accepted"}

    async def _change_configuration(self, payload: dict[str, Any]) -> dict[str, Any]:
        return {"status": self.configuration.change(payload["key"], payload["value"]).value}

    async def _get_configuration(self, payload: dict[str, Any]) -> dict[str, Any]:
        known, unknown = self.configuration.read(payload.get("key"))
        response: dict[str, Any] = {
            "configurationKey": [{"key": d.name, "readonly": d.readonly, "value": v[:500]} for d, v in known]
        }
        if unknown:
            response["unknownKey"] = [name[:50] for name in unknown]
        return response

    async def _set_charging_profile(self, payload: dict[str, Any]) -> dict[str, Any]:
        station = self.station
        model = station.model
        connector_id = payload["connectorId"]
        raw = payload["csChargingProfiles"]
        purpose = Purpose(raw["chargingProfilePurpose"])
        if connector_id != 0 and model.connector(connector_id) is None:
            return {"status": "Rejected"}
        if purpose is Purpose.CHARGE_POINT_MAX and connector_id != 0:
            return {"status": "Rejected"}
        if purpose is Purpose.TX:
            connector = model.connector(connector_id)
            session = connector.session if connector is not None else None
            if session is None or session.phase is not SessionPhase.ACTIVE:
                return {"status": "Rejected"}
            if "transactionId" in raw and raw["transactionId"] != session.transaction_id:
                return {"status": "Rejected"}
        if raw["stackLevel"] > self.configuration.number("ChargeProfileMaxStackLevel") or raw["stackLevel"] < 0:
            return {"status": "Rejected"}
        station.install_profile(_profile(raw, connector_id))
        return {"status": "Accepted"}

    async def _clear_charging_profile(self, payload: dict[str, Any]) -> dict[str, Any]:
        purpose = payload.get("chargingProfilePurpose")
        cleared = self.station.clear_profiles(
            profile_id=payload.get("id"),
            connector_id=payload.get("connectorId"),
            purpose=Purpose(purpose) if purpose else None,
            stack_level=payload.get("stackLevel"),
        )
        return {"status": "Accepted" if cleared else "Unknown"}

    async def _get_composite_schedule(self, payload: dict[str, Any]) -> dict[str, Any]:
        """The limit in force now, as a one-period schedule: enough for a CSMS to check its profile landed."""
        station = self.station
        connector_id = payload["connectorId"]
        connector = station.model.connector(connector_id) if connector_id else None
        if connector_id != 0 and connector is None:
            return {"status": "Rejected"}
        if connector is not None:
            limit_w = station.limit_w(connector, connector.session)
        else:
            limit_w = sum(station.limit_w(c, c.session) for c in station.model.connectors)
        unit = payload.get("chargingRateUnit", "W")
        limit = limit_w / (VOLTAGE_V * PHASES) if unit == "A" else limit_w
        return {
            "status": "Accepted",
            "connectorId": connector_id,
            "scheduleStart": timestamp(),
            "chargingSchedule": {
                "duration": payload["duration"],
                "chargingRateUnit": unit,
                "chargingSchedulePeriod": [{"startPeriod": 0, "limit": round(limit)}],
            },
        }

    async def _unlock_connector(self, payload: dict[str, Any]) -> dict[str, Any]:
        return {"status": self.station.unlock(payload["connectorId"])}

    async def _trigger_message(self, payload: dict[str, Any]) -> dict[str, Any]:
        station = self.station
        requested = payload["requestedMessage"]
        connector_id = payload.get("connectorId")
        if connector_id not in (None, 0) and station.model.connector(connector_id) is None:
            return {"status": "Rejected"}
        if requested == "BootNotification":
            station.post(self._triggered_boot)
        elif requested == "Heartbeat":
            station.post(self.heartbeat)
        elif requested == "StatusNotification":
            station.resend_statuses(connector_id)
        elif requested == "MeterValues":
            station.post(lambda: self._triggered_meter_values(connector_id))
        elif requested == "DiagnosticsStatusNotification":
            station.post(lambda: self._notify("DiagnosticsStatusNotification", {"status": "Idle"}))
        elif requested == "FirmwareStatusNotification":
            station.post(lambda: self._notify("FirmwareStatusNotification", {"status": "Idle"}))
        else:
            return {"status": "NotImplemented"}
        return {"status": "Accepted"}

    async def _triggered_boot(self) -> None:
        answer = await self.boot()
        if answer.status == "Accepted" and answer.interval_s > 0:
            self.station.set_heartbeat_interval(answer.interval_s)

    async def _triggered_meter_values(self, connector_id: int | None) -> None:
        station = self.station
        for connector in station.model.connectors:
            if connector_id not in (None, 0) and connector.connector_id != connector_id:
                continue
            session = connector.session
            if session is not None and session.phase is SessionPhase.ACTIVE:
                station.advance()
                self.meter_values(session, "Trigger")
                await station.flush()
            else:
                await self.connector_meter_values(connector.connector_id, "Trigger")

    async def _notify(self, action: str, payload: dict[str, Any]) -> None:
        await self.station.call(action, payload)

    async def _reserve_now(self, payload: dict[str, Any]) -> dict[str, Any]:
        status = self.station.reserve(
            payload["connectorId"],
            payload["idTag"],
            parse_timestamp(payload["expiryDate"]),
            payload["reservationId"],
            payload.get("parentIdTag"),
        )
        return {"status": status}

    async def _cancel_reservation(self, payload: dict[str, Any]) -> dict[str, Any]:
        return {"status": "Accepted" if self.station.cancel_reservation(payload["reservationId"]) else "Rejected"}

    async def _change_availability(self, payload: dict[str, Any]) -> dict[str, Any]:
        operative = payload["type"] == "Operative"
        return {"status": self.station.change_availability(payload["connectorId"], operative)}

    async def _data_transfer(self, payload: dict[str, Any]) -> dict[str, Any]:
        if payload["vendorId"] != VENDOR_ID:
            return {"status": "UnknownVendorId"}
        if payload.get("messageId") not in (None, "echo"):
            return {"status": "UnknownMessageId"}
        response: dict[str, Any] = {"status": "Accepted"}
        if "data" in payload:
            response["data"] = payload["data"]
        return response

    async def _clear_cache(self, payload: dict[str, Any]) -> dict[str, Any]:
        return {"status": "Accepted"}

    async def _get_local_list_version(self, payload: dict[str, Any]) -> dict[str, Any]:
        return {"listVersion": self.station.model.local_list_version}

    async def _send_local_list(self, payload: dict[str, Any]) -> dict[str, Any]:
        self.station.model.local_list_version = payload["listVersion"]
        return {"status": "Accepted"}


def _value(value: str, context: str, measurand: str, unit: str, location: str) -> dict[str, str]:
    return {"value": value, "context": context, "measurand": measurand, "unit": unit, "location": location}


def _profile(raw: dict[str, Any], connector_id: int) -> ChargingProfile:
    """A 1.6 csChargingProfiles object as a version-agnostic profile with limits in watts."""
    schedule = raw["chargingSchedule"]
    in_amps = schedule["chargingRateUnit"] == "A"
    periods = tuple(
        SchedulePeriod(
            int(p["startPeriod"]),
            amps_to_watts(float(p["limit"]), p.get("numberPhases", PHASES), VOLTAGE_V) if in_amps else float(p["limit"]),
        )
        for p in sorted(schedule["chargingSchedulePeriod"], key=lambda p: p["startPeriod"])
    )
    recurrency = raw.get("recurrencyKind")
    return ChargingProfile(
        profile_id=raw["chargingProfileId"],
        connector_id=connector_id,
        stack_level=raw["stackLevel"],
        purpose=Purpose(raw["chargingProfilePurpose"]),
        kind=Kind(raw["chargingProfileKind"]),
        periods=periods,
        start=parse_timestamp(schedule["startSchedule"]) if "startSchedule" in schedule else None,
        duration_s=schedule.get("duration"),
        recurrency_days=(7 if recurrency == "Weekly" else 1) if recurrency else None,
        valid_from=parse_timestamp(raw["validFrom"]) if "validFrom" in raw else None,
        valid_to=parse_timestamp(raw["validTo"]) if "validTo" in raw else None,
        transaction_id=raw.get("transactionId"),
    )
