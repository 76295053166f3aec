"""The CSMS's 2.0.1 (and 2.1) commands, answered as a charger does.

:class:`V201Commands` is the half of :class:`~kilowatt.simulator.v201.V201Adapter` that answers
commands: the device model (GetVariables, SetVariables, GetBaseReport and GetReport with their
NotifyReport parts), remote start and stop, charging profiles, reset, availability, triggers,
unlocking, reservations, local lists, DataTransfer and GetTransactionStatus. Handlers run inside
the station's message handler, so anything that must *send* (NotifyReport parts, a triggered
message, the reboot after a Reset) is posted to the station's behaviour task. Incoming payloads were
validated against the version's schema before they arrive here; what the schema cannot say (an
unknown EVSE, a profile for no transaction) is answered with the operation's own refusal status.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import TYPE_CHECKING, Any, ClassVar

from kilowatt.rpc.errors import ErrorKind, OcppError
from kilowatt.rpc.protocol import IncomingCall
from kilowatt.simulator.charging_profiles import ChargingProfile, Kind, Purpose, SchedulePeriod
from kilowatt.simulator.clock import parse_timestamp, timestamp
from kilowatt.simulator.device_model import ACTUAL, GetStatus, ReportBase, SetStatus
from kilowatt.simulator.energy import amps_to_watts
from kilowatt.simulator.model import SessionPhase
from kilowatt.simulator.v201_device_model import ITEMS_PER_MESSAGE

if TYPE_CHECKING:
    from kilowatt.simulator.device_model import DeviceModel
    from kilowatt.simulator.model import Session
    from kilowatt.simulator.station import SimulatedStation

VENDOR_ID = "org.kilowatt.simulator"  # DataTransfer vendor this simulator answers
VOLTAGE_V = 230.0
PHASES = 3
MAX_STACK_LEVEL = 10  # SmartChargingCtrlr.ProfileStackLevel

_PURPOSES = {
    "ChargingStationMaxProfile": Purpose.CHARGE_POINT_MAX,
    "TxDefaultProfile": Purpose.TX_DEFAULT,
    "TxProfile": Purpose.TX,
}
_KINDS = {"Absolute": Kind.ABSOLUTE, "Recurring": Kind.RECURRING, "Relative": Kind.RELATIVE}

Payload = dict[str, Any]


class V201Commands:
    """Answers to CSMS→station 2.0.1 messages (see the module docstring)."""

    station: SimulatedStation
    device_model: DeviceModel
    boot_reason: str
    reset_when_idle: bool
    report_part_size: int

    # action -> handler method name
    HANDLERS: ClassVar[Mapping[str, str]] = {
        "GetVariables": "_get_variables",
        "SetVariables": "_set_variables",
        "GetBaseReport": "_get_base_report",
        "GetReport": "_get_report",
        "RequestStartTransaction": "_request_start",
        "RequestStopTransaction": "_request_stop",
        "GetTransactionStatus": "_get_transaction_status",
        "SetChargingProfile": "_set_charging_profile",
        "ClearChargingProfile": "_clear_charging_profile",
        "GetCompositeSchedule": "_get_composite_schedule",
        "Reset": "_reset",
        "ChangeAvailability": "_change_availability",
        "TriggerMessage": "_trigger_message",
        "UnlockConnector": "_unlock_connector",
        "ReserveNow": "_reserve_now",
        "CancelReservation": "_cancel_reservation",
        "DataTransfer": "_data_transfer",
        "ClearCache": "_clear_cache",
        "GetLocalListVersion": "_get_local_list_version",
        "SendLocalList": "_send_local_list",
    }

    # these are the adapter's (v201.py)
    heartbeat: Callable[[], Awaitable[None]]
    meter_values: Callable[[Session, str], None]
    connector_meter_values: Callable[[int, str], Awaitable[None]]

    async def handle(self, call: IncomingCall) -> Payload:
        name = self.HANDLERS.get(call.action)
        if name is None:
            raise OcppError(ErrorKind.NOT_SUPPORTED, f"{call.action} is not supported by this simulator")
        handler: Callable[[Payload], Awaitable[Payload]] = getattr(self, name)
        return await handler(call.payload)

    # --- the device model -----------------------------------------------------------------------

    async def _get_variables(self, payload: Payload) -> Payload:
        items = payload["getVariableData"]
        _check_items(items)
        results = []
        for item in items:
            attribute_type = item.get("attributeType", ACTUAL)
            status, value = self.device_model.get(item["component"], item["variable"], attribute_type)
            result: Payload = {"attributeStatus": status.value, "component": item["component"], "variable": item["variable"]}
            if "attributeType" in item:
                result["attributeType"] = attribute_type
            if status is GetStatus.ACCEPTED and value is not None:
                result["attributeValue"] = value[:2500]
            results.append(result)
        return {"getVariableResult": results}

    async def _set_variables(self, payload: Payload) -> Payload:
        items = payload["setVariableData"]
        _check_items(items)
        results = []
        for item in items:
            attribute_type = item.get("attributeType", ACTUAL)
            status, reason = self.device_model.set(item["component"], item["variable"], item["attributeValue"], attribute_type)
            result: Payload = {"attributeStatus": status.value, "component": item["component"], "variable": item["variable"]}
            if "attributeType" in item:
                result["attributeType"] = attribute_type
            if status is SetStatus.REJECTED and reason:
                result["attributeStatusInfo"] = {"reasonCode": "InvalidValue", "additionalInfo": reason[:500]}
            results.append(result)
        return {"setVariableResult": results}

    async def _get_base_report(self, payload: Payload) -> Payload:
        entries = self.device_model.report(ReportBase(payload["reportBase"]))
        return self._start_report(payload["requestId"], entries)

    async def _get_report(self, payload: Payload) -> Payload:
        wanted = payload.get("componentVariable") or []
        _check_items(wanted)
        model = self.device_model
        entries = (
            model.report(wanted=[(w["component"], w.get("variable")) for w in wanted])
            if wanted
            else model.report(ReportBase.FULL)
        )
        criteria = payload.get("componentCriteria")
        if criteria:
            entries = [e for e in entries if self._meets(e["component"], criteria)]
        return self._start_report(payload["requestId"], entries)

    def _meets(self, component: Payload, criteria: list[str]) -> bool:
        """GetReport's componentCriteria: a component without the variable is taken as Active/Available/Enabled."""
        for criterion in criteria:
            status, value = self.device_model.get(component, {"name": criterion})
            if criterion == "Problem":
                if status is GetStatus.ACCEPTED and value == "true":
                    return True
            elif status is not GetStatus.ACCEPTED or value != "false":
                return True
        return False

    def _start_report(self, request_id: int, entries: list[Payload]) -> Payload:
        if not entries:
            return {"status": "EmptyResultSet"}
        self.station.post(lambda: self._send_report(request_id, entries))
        return {"status": "Accepted"}

    async def _send_report(self, request_id: int, entries: list[Payload]) -> None:
        """NotifyReport in parts of ``report_part_size`` entries: seqNo from 0, ``tbc`` on all but the last."""
        generated_at = timestamp()
        size = max(1, self.report_part_size)
        parts = [entries[i : i + size] for i in range(0, len(entries), size)]
        for seq_no, part in enumerate(parts):
            message = {
                "requestId": request_id,
                "generatedAt": generated_at,
                "seqNo": seq_no,
                "tbc": seq_no < len(parts) - 1,
                "reportData": part,
            }
            if await self.station.call("NotifyReport", message) is None:
                return  # not answered: a CSMS asks again

    # --- transactions ---------------------------------------------------------------------------

    async def _request_start(self, payload: Payload) -> Payload:
        station = self.station
        evse_id = payload.get("evseId")
        if evse_id is not None and station.model.connector(evse_id) is None:
            return {"status": "Rejected"}
        profile = payload.get("chargingProfile")
        if profile is not None and profile["chargingProfilePurpose"] != "TxProfile":
            return {"status": "Rejected"}
        id_token = payload["idToken"]
        session = station.remote_start(
            evse_id, id_token["idToken"], authorize=self.device_model.flag("AuthCtrlr", "AuthorizeRemoteStart")
        )
        if session is None:
            return {"status": "Rejected"}
        session.id_token_type = id_token["type"]
        session.remote_start_id = payload["remoteStartId"]
        if profile is not None:
            converted = _profile(profile, session.connector_id)
            if converted is not None:
                station.install_profile(converted)
        return {"status": "Accepted"}

    async def _request_stop(self, payload: Payload) -> Payload:
        return {"status": "Accepted" if self.station.remote_stop(payload["transactionId"]) else "Rejected"}

    async def _get_transaction_status(self, payload: Payload) -> Payload:
        transaction_id = payload.get("transactionId")
        queue = self.station.queue
        if transaction_id is None:
            return {"messagesInQueue": bool(queue)}
        waiting = any(m.payload.get("transactionInfo", {}).get("transactionId") == transaction_id for m in queue)
        ongoing = self.station.model.session_by_transaction(transaction_id) is not None
        return {"ongoingIndicator": ongoing, "messagesInQueue": waiting}

    # --- smart charging -------------------------------------------------------------------------

    async def _set_charging_profile(self, payload: Payload) -> Payload:
        station = self.station
        model = station.model
        evse_id = payload["evseId"]
        raw = payload["chargingProfile"]
        purpose = _PURPOSES.get(raw["chargingProfilePurpose"])  # ExternalConstraints are not the CSMS's to set
        if purpose is None or (evse_id != 0 and model.connector(evse_id) is None):
            return _rejected("UnknownEVSE" if purpose is not None else "UnsupportedPurpose")
        if purpose is Purpose.CHARGE_POINT_MAX and evse_id != 0:
            return _rejected("InvalidEVSE")
        if not 0 <= raw["stackLevel"] <= MAX_STACK_LEVEL:
            return _rejected("InvalidStackLevel")
        if purpose is Purpose.TX:
            connector = model.connector(evse_id)
            session = connector.session if connector is not None else None
            if session is None or session.phase is not SessionPhase.ACTIVE:
                return _rejected("NoTransaction")
            if raw.get("transactionId") != session.transaction_id:
                return _rejected("UnknownTransaction")  # K01.FR.03: a TxProfile names its transaction
        profile = _profile(raw, evse_id)
        if profile is None:
            return _rejected("UnsupportedSchedule")
        station.install_profile(profile)
        return {"status": "Accepted"}

    async def _clear_charging_profile(self, payload: Payload) -> Payload:
        criteria = payload.get("chargingProfileCriteria") or {}
        purpose_name = criteria.get("chargingProfilePurpose")
        if purpose_name is not None and purpose_name not in _PURPOSES:
            return {"status": "Unknown"}
        cleared = self.station.clear_profiles(
            profile_id=payload.get("chargingProfileId"),
            connector_id=criteria.get("evseId"),
            purpose=_PURPOSES[purpose_name] if purpose_name else None,
            stack_level=criteria.get("stackLevel"),
        )
        return {"status": "Accepted" if cleared else "Unknown"}

    async def _get_composite_schedule(self, payload: Payload) -> Payload:
        """The limit in force now, as a one-period schedule: enough for a CSMS to check its profile landed."""
        station = self.station
        evse_id = payload["evseId"]
        connector = station.model.connector(evse_id) if evse_id else None
        if evse_id != 0 and connector is None:
            return _rejected("UnknownEVSE")
        if connector is not None:
            limit_w = station.limit_w(connector, connector.session)
        else:
            limit_w = sum(station.limit_w(c, c.session) for c in station.model.connectors)
        unit = payload.get("chargingRateUnit", "W")
        limit = limit_w / (VOLTAGE_V * PHASES) if unit == "A" else limit_w
        schedule = {
            "evseId": evse_id,
            "duration": payload["duration"],
            "scheduleStart": timestamp(),
            "chargingRateUnit": unit,
            "chargingSchedulePeriod": [{"startPeriod": 0, "limit": round(limit, 1)}],
        }
        return {"status": "Accepted", "schedule": schedule}

    # --- the station as a whole -----------------------------------------------------------------

    async def _reset(self, payload: Payload) -> Payload:
        station = self.station
        if payload.get("evseId") is not None:
            return _rejected("EVSEResetUnsupported")
        if payload["type"] == "OnIdle" and any(s.phase is SessionPhase.ACTIVE for s in station.model.sessions()):
            self.reset_when_idle = True  # the last transaction's end reboots the station
            return {"status": "Scheduled"}
        self.boot_reason = "RemoteReset"
        station.reset(hard=payload["type"] != "OnIdle")
        return {"status": "Accepted"}

    async def _change_availability(self, payload: Payload) -> Payload:
        evse = payload.get("evse")
        if evse is not None and evse.get("connectorId", 1) != 1:
            return {"status": "Rejected"}
        connector_id = evse["id"] if evse is not None else 0
        return {"status": self.station.change_availability(connector_id, payload["operationalStatus"] == "Operative")}

    async def _trigger_message(self, payload: Payload) -> Payload:
        station = self.station
        requested = payload["requestedMessage"]
        evse = payload.get("evse") or {}
        evse_id = evse.get("id")
        if evse_id not in (None, 0) and station.model.connector(evse_id) is None:
            return {"status": "Rejected"}
        if requested == "BootNotification":
            if station._booted:  # F06.FR.17: an accepted station does not boot again on request
                return {"status": "Rejected"}
            self.boot_reason = "Triggered"
            station.post(station._boot)
        elif requested == "Heartbeat":
            station.post(self.heartbeat)
        elif requested == "StatusNotification":
            station.resend_statuses(evse_id)
        elif requested == "MeterValues":
            station.post(lambda: self._triggered_meter_values(evse_id))
        elif requested == "TransactionEvent":
            sessions = self._active_sessions(evse_id)
            if not sessions:
                return {"status": "Rejected"}
            for session in sessions:
                station.advance()
                self.meter_values(session, "Trigger")
            station.post(station.flush)
        elif requested in ("FirmwareStatusNotification", "LogStatusNotification"):
            station.post(lambda: self._notify(requested, {"status": "Idle"}))
        else:
            return {"status": "NotImplemented"}
        return {"status": "Accepted"}

    def _active_sessions(self, evse_id: int | None) -> list[Session]:
        return [
            c.session
            for c in self.station.model.connectors
            if c.session is not None and c.session.phase is SessionPhase.ACTIVE and evse_id in (None, 0, c.connector_id)
        ]

    async def _triggered_meter_values(self, evse_id: int | None) -> None:
        self.station.advance()
        for connector in self.station.model.connectors:
            if evse_id in (None, 0, connector.connector_id):
                await self.connector_meter_values(connector.connector_id, "Trigger")

    async def _notify(self, action: str, payload: Payload) -> None:
        await self.station.call(action, payload)

    async def _unlock_connector(self, payload: Payload) -> Payload:
        station = self.station
        connector = station.model.connector(payload["evseId"])
        if connector is None or payload["connectorId"] != 1:
            return {"status": "UnknownConnector"}
        if connector.session is not None and connector.session.phase is SessionPhase.ACTIVE:
            return {"status": "OngoingAuthorizedTransaction"}  # F05.FR.02: stop the transaction first
        return {"status": station.unlock(connector.connector_id)}

    # --- reservations, authorization lists, vendor data -----------------------------------------

    async def _reserve_now(self, payload: Payload) -> Payload:
        evse_id = payload.get("evseId")
        if evse_id is None:
            return {"status": "Rejected"}  # ReservationCtrlr.NonEvseSpecific is false
        group = payload.get("groupIdToken")
        status = self.station.reserve(
            evse_id,
            payload["idToken"]["idToken"],
            parse_timestamp(payload["expiryDateTime"]),
            payload["id"],
            group["idToken"] if group else None,
        )
        return {"status": status}

    async def _cancel_reservation(self, payload: Payload) -> Payload:
        return {"status": "Accepted" if self.station.cancel_reservation(payload["reservationId"]) else "Rejected"}

    async def _data_transfer(self, payload: Payload) -> Payload:
        if payload["vendorId"] != VENDOR_ID:
            return {"status": "UnknownVendorId"}
        if payload.get("messageId") not in (None, "echo"):
            return {"status": "UnknownMessageId"}
        response: Payload = {"status": "Accepted"}
        if "data" in payload:
            response["data"] = payload["data"]
        return response

    async def _clear_cache(self, payload: Payload) -> Payload:
        return {"status": "Accepted"}

    async def _get_local_list_version(self, payload: Payload) -> Payload:
        return {"versionNumber": self.station.model.local_list_version}

    async def _send_local_list(self, payload: Payload) -> Payload:
        self.station.model.local_list_version = payload["versionNumber"]
        return {"status": "Accepted"}


def _check_items(items: list[Any]) -> None:
    """DeviceDataCtrlr.ItemsPerMessage: more items than the station takes is a CALLERROR (B06.FR.?)."""
    if len(items) > ITEMS_PER_MESSAGE:
        raise OcppError(ErrorKind.OCCURRENCE_CONSTRAINT, f"at most {ITEMS_PER_MESSAGE} items per message")


def _rejected(reason: str) -> Payload:
    return {"status": "Rejected", "statusInfo": {"reasonCode": reason[:20]}}


def _profile(raw: Payload, evse_id: int) -> ChargingProfile | None:
    """A 2.0.1/2.1 ChargingProfileType as a version-agnostic profile with limits in watts (its first schedule)."""
    kind = _KINDS.get(raw["chargingProfileKind"])
    if kind is None:  # 2.1's Dynamic: limits pushed by the CSMS, not simulated
        return None
    schedule = raw["chargingSchedule"][0]
    in_amps = schedule["chargingRateUnit"] == "A"
    periods = tuple(
        SchedulePeriod(
            int(p["startPeriod"]),
            amps_to_watts(float(p["limit"]), p.get("numberPhases", PHASES), VOLTAGE_V) if in_amps else float(p["limit"]),
        )
        for p in sorted(schedule["chargingSchedulePeriod"], key=lambda p: p["startPeriod"])
        if "limit" in p  # 2.1 may give only setpoints
    )
    if not periods:
        return None
    recurrency = raw.get("recurrencyKind")
    return ChargingProfile(
        profile_id=raw["id"],
        connector_id=evse_id,
        stack_level=raw["stackLevel"],
        purpose=_PURPOSES[raw["chargingProfilePurpose"]],
        kind=kind,
        periods=periods,
        start=parse_timestamp(schedule["startSchedule"]) if "startSchedule" in schedule else None,
        duration_s=schedule.get("duration"),
        recurrency_days=(7 if recurrency == "Weekly" else 1) if recurrency else None,
        valid_from=parse_timestamp(raw["validFrom"]) if "validFrom" in raw else None,
        valid_to=parse_timestamp(raw["validTo"]) if "validTo" in raw else None,
        transaction_id=raw.get("transactionId"),
    )
