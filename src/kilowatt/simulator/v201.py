"""OCPP 2.0.1 for a simulated station: the runtime's events as 2.0.1 messages.

Everything that knows 2.0.1's station→CSMS field names lives here; the commands the station answers
are in :mod:`kilowatt.simulator.v201_commands` and the device model it reports in
:mod:`kilowatt.simulator.v201_device_model`. OCPP 2.1 is the same adapter on 2.1's dialect
(:mod:`kilowatt.simulator.v21`): every message this simulator sends or answers kept its shape.

What differs from 1.6, as a 2.0.1 charger does it:

- the station numbers its own transactions (a UUID), so a session started offline needs nothing
  from the CSMS before its later messages can name it;
- a session is one stream of TransactionEvents — Started, Updated (meter samples, charging state
  changes, triggers), Ended — numbered by ``seqNo`` from 0, each carrying ``triggerReason`` and,
  when it happened while the station could not send, ``offline: true``; they go through the same
  ordered offline queue as 1.6's transaction messages and are replayed in order;
- StatusNotification carries the coarse connector status of an EVSE's connector (1.6's Preparing,
  Charging, Suspended* and Finishing are all Occupied); the finer state travels as the
  transaction's ``chargingState``;
- a fault is also a device-model event: when a connector faults, a NotifyEvent reports its EVSE's
  ``Problem`` turning true (``techCode`` = the error code) and, caused by it, the connector's
  ``AvailabilityState`` turning Faulted; when the fault clears, ``Problem`` false with ``cleared``
  and the state the connector is back in. Both are hard-wired notifications (no monitor needed),
  sent once, after the StatusNotification (a NotifyEvent lost offline is not sent again).

Outgoing payloads are checked against the version's official schemas by
:class:`~kilowatt.rpc.protocol.RpcProtocol` before they leave.
"""

from __future__ import annotations

import itertools
import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from kilowatt.ocpp.v201.dialect import DIALECT, SUBPROTOCOL
from kilowatt.simulator.adapter import BootAnswer, ProtocolAdapter
from kilowatt.simulator.clock import timestamp
from kilowatt.simulator.device_model import DeviceModel
from kilowatt.simulator.model import ConnectorStatus, Session, SessionPhase, StopReason
from kilowatt.simulator.offline import QueuedMessage
from kilowatt.simulator.v201_commands import V201Commands
from kilowatt.simulator.v201_device_model import (
    DEFAULT_STARTED_MEASURANDS,
    DEFAULT_UPDATED_MEASURANDS,
    REPORT_ITEMS_PER_PART,
    connector_status,
    variables,
)

if TYPE_CHECKING:
    from kilowatt.simulator.station import SimulatedStation

VOLTAGE_V = 230.0
PHASES = 3
CONNECTOR_ID = 1  # every simulated EVSE has one connector

_CHARGING_STATE = {
    ConnectorStatus.CHARGING: "Charging",
    ConnectorStatus.SUSPENDED_EV: "SuspendedEV",
    ConnectorStatus.SUSPENDED_EVSE: "SuspendedEVSE",
}

# StopReason -> (triggerReason of the Ended event, stoppedReason)
_ENDED = {
    StopReason.LOCAL: ("StopAuthorized", "Local"),
    StopReason.REMOTE: ("RemoteStop", "Remote"),
    StopReason.EV_DISCONNECTED: ("EVDeparted", "EVDisconnected"),
    StopReason.DEAUTHORIZED: ("Deauthorized", "DeAuthorized"),
    StopReason.SOFT_RESET: ("ResetCommand", "Reboot"),
    StopReason.HARD_RESET: ("ResetCommand", "ImmediateReset"),
    StopReason.UNLOCK_COMMAND: ("UnlockCommand", "Other"),
    StopReason.EMERGENCY_STOP: ("AbnormalCondition", "EmergencyStop"),
    StopReason.OTHER: ("AbnormalCondition", "Other"),
}

_SAMPLE_TRIGGER = {"Sample.Periodic": "MeterValuePeriodic", "Sample.Clock": "MeterValueClock"}


@dataclass(slots=True)
class TxState:
    """What a 2.0.1 station remembers about one transaction: the next seqNo, the charging state reported."""

    seq_no: int = 0
    charging_state: str = "EVConnected"


def measurand_list(value: str) -> tuple[str, ...]:
    return tuple(m.strip() for m in value.split(",") if m.strip())


class V201Adapter(V201Commands, ProtocolAdapter):
    """A station speaking OCPP 2.0.1."""

    subprotocol = SUBPROTOCOL
    dialect = DIALECT

    def __init__(self, station: SimulatedStation):
        super().__init__(station)
        self.device_model = DeviceModel(variables(len(station.model.connectors)), self)
        self.updated_measurands = measurand_list(DEFAULT_UPDATED_MEASURANDS)
        self.started_measurands = measurand_list(DEFAULT_STARTED_MEASURANDS)
        self.ended_measurands = measurand_list(DEFAULT_STARTED_MEASURANDS)
        self.boot_reason = "PowerUp"  # BootReasonEnumType of the next BootNotification
        self.reset_when_idle = False  # a Reset OnIdle waits for the last transaction to end
        self.report_part_size = REPORT_ITEMS_PER_PART
        self.event_ids = itertools.count(1)  # NotifyEvent eventIds
        self.problem_events: dict[int, int] = {}  # EVSE id -> eventId of its fault's Problem event, while it lasts

    # --- station -> CSMS ------------------------------------------------------------------------

    async def boot(self) -> BootAnswer:
        station = self.station
        config = station.config
        payload = {
            "reason": self.boot_reason,
            "chargingStation": {
                "model": config.model[:20],
                "vendorName": config.vendor[:50],
                "serialNumber": station.station_id[:25],
                "firmwareVersion": config.firmware_version[:50],
            },
        }
        response = await station.call("BootNotification", payload)
        if response is None:
            return BootAnswer(None, 0.0)
        if response["status"] == "Accepted":
            self.boot_reason = "PowerUp"
        return BootAnswer(response["status"], float(response["interval"]))

    async def heartbeat(self) -> None:
        await self.station.call("Heartbeat", {})

    async def status_notification(self, connector_id: int, status: ConnectorStatus, error_code: str | None) -> bool:
        """Report an EVSE's connector; a change of charging state within a transaction is a TransactionEvent.

        2.0.1 has no station-wide StatusNotification (1.6's connector 0): its availability is a
        device-model variable, so that report is answered as done.
        """
        station = self.station
        connector = station.model.connector(connector_id)
        if connector is None:
            return True
        session = connector.session
        if session is not None and session.phase is SessionPhase.ACTIVE and isinstance(session.protocol_state, TxState):
            charging_state = _CHARGING_STATE.get(status, "EVConnected")
            if charging_state != session.protocol_state.charging_state:
                session.protocol_state.charging_state = charging_state
                info = {"transactionId": session.transaction_id, "chargingState": charging_state}
                self._event(session, "Updated", "ChargingStateChanged", info=info)
                await station.flush()
        reported = connector.reported
        if reported is None or connector_status(reported[0]) != connector_status(status):  # else the CSMS has it
            payload = {
                "timestamp": timestamp(),
                "connectorStatus": connector_status(status),
                "evseId": connector_id,
                "connectorId": CONNECTOR_ID,
            }
            if await station.call("StatusNotification", payload) is None:
                return False
        await self._notify_problem(connector_id, status, error_code)
        return True

    async def _notify_problem(self, evse_id: int, status: ConnectorStatus, error_code: str | None) -> None:
        """NotifyEvent when the EVSE's fault begins or clears (see the module docstring)."""
        problem_event = self.problem_events.get(evse_id)
        if (error_code is not None) == (problem_event is not None):
            return  # no fault, or one already reported
        at = timestamp()
        problem: dict[str, Any] = {
            "eventId": next(self.event_ids),
            "timestamp": at,
            "trigger": "Delta",
            "actualValue": "true" if error_code is not None else "false",
            "component": {"name": "EVSE", "evse": {"id": evse_id}},
            "variable": {"name": "Problem"},
            "eventNotificationType": "HardWiredNotification",
        }
        if error_code is not None:
            problem["techCode"] = error_code[:50]
            self.problem_events[evse_id] = problem["eventId"]
        else:
            problem["cleared"] = True
            del self.problem_events[evse_id]
        availability = {
            "eventId": next(self.event_ids),
            "timestamp": at,
            "trigger": "Delta",
            "cause": problem["eventId"],
            "actualValue": connector_status(status),
            "component": {"name": "Connector", "evse": {"id": evse_id, "connectorId": CONNECTOR_ID}},
            "variable": {"name": "AvailabilityState"},
            "eventNotificationType": "HardWiredNotification",
        }
        await self.station.call("NotifyEvent", {"generatedAt": at, "seqNo": 0, "eventData": [problem, availability]})

    async def authorize(self, id_token: str, id_token_type: str = "ISO14443") -> bool | None:
        if not self.station.ready:
            return None
        response = await self.station.call("Authorize", {"idToken": {"idToken": id_token, "type": id_token_type}})
        if response is None:
            return None
        return response["idTokenInfo"]["status"] == "Accepted"

    def transaction_started(self, session: Session) -> None:
        if session.transaction_id is None:
            session.transaction_id = str(uuid.uuid4())
        session.protocol_state = TxState()
        info: dict[str, Any] = {"transactionId": session.transaction_id, "chargingState": "EVConnected"}
        if session.remote_start_id is not None:
            info["remoteStartId"] = session.remote_start_id
        extra: dict[str, Any] = {
            "idToken": _id_token(session),
            "evse": {"id": session.connector_id, "connectorId": CONNECTOR_ID},
        }
        if session.reservation_id is not None:
            extra["reservationId"] = session.reservation_id
        self._event(
            session,
            "Started",
            "RemoteStart" if session.remote else "Authorized",
            info=info,
            extra=extra,
            context="Transaction.Begin",
            measurands=self.started_measurands,
            meter_wh=session.meter_start_wh,
        )

    def meter_values(self, session: Session, context: str) -> None:
        if not isinstance(session.protocol_state, TxState):
            return
        trigger = _SAMPLE_TRIGGER.get(context, "Trigger")
        self._event(
            session, "Updated", trigger, context=context, measurands=self.updated_measurands, droppable=trigger != "Trigger"
        )

    async def connector_meter_values(self, connector_id: int, context: str) -> None:
        sample = self._sample(connector_id, None, context, self.updated_measurands)
        await self.station.call("MeterValues", {"evseId": connector_id, "meterValue": [sample]})

    def transaction_stopped(self, session: Session) -> None:
        if not isinstance(session.protocol_state, TxState):
            return
        station = self.station
        connector = station.model.connector(session.connector_id)
        assert connector is not None
        trigger, stopped_reason = _ENDED[session.stop_reason or StopReason.LOCAL]
        info = {
            "transactionId": session.transaction_id,
            "chargingState": "EVConnected" if connector.plugged else "Idle",
            "stoppedReason": stopped_reason,
        }
        extra = {"idToken": _id_token(session)} if trigger == "StopAuthorized" else None
        meter_wh = session.meter_stop_wh if session.meter_stop_wh is not None else int(connector.meter_wh)
        self._event(
            session,
            "Ended",
            trigger,
            info=info,
            extra=extra,
            context="Transaction.End",
            measurands=self.ended_measurands,
            meter_wh=meter_wh,
        )
        if self.reset_when_idle and not any(
            s is not session and s.phase is SessionPhase.ACTIVE for s in station.model.sessions()
        ):
            self.reset_when_idle = False
            self.boot_reason = "RemoteReset"
            station.reset(hard=False)

    def transaction_message_answered(self, message: QueuedMessage, response: dict[str, Any]) -> None:
        station = self.station
        session: Session | None = message.context
        if session is None:
            return
        event_type = message.payload["eventType"]
        token_info = response.get("idTokenInfo")
        if event_type == "Started" and token_info is not None and token_info["status"] != "Accepted":
            station.stats.rejected["TransactionEvent"] += 1
            if self.device_model.flag("TxCtrlr", "StopTxOnInvalidId") and session.phase is SessionPhase.ACTIVE:
                station.post(lambda: station.end_session(session, StopReason.DEAUTHORIZED))
        elif event_type == "Ended":
            station.session_completed(session)

    def transaction_message_failed(self, message: QueuedMessage) -> None:
        """Nothing to undo: the station numbers its transactions, so later events stay deliverable."""

    # --- helpers ----------------------------------------------------------------------------------

    def _event(
        self,
        session: Session,
        event_type: str,
        trigger: str,
        *,
        info: dict[str, Any] | None = None,
        extra: dict[str, Any] | None = None,
        context: str | None = None,
        measurands: tuple[str, ...] = (),
        meter_wh: float | None = None,
        droppable: bool = False,
    ) -> None:
        """Queue one TransactionEvent of ``session`` with the next seqNo."""
        state: TxState = session.protocol_state
        station = self.station
        payload: dict[str, Any] = {
            "eventType": event_type,
            "timestamp": timestamp(),
            "triggerReason": trigger,
            "seqNo": state.seq_no,
            "transactionInfo": info or {"transactionId": session.transaction_id},
        }
        state.seq_no += 1
        if context is not None and measurands:
            payload["meterValue"] = [self._sample(session.connector_id, session, context, measurands, meter_wh)]
        if not station.ready:
            payload["offline"] = True
        if extra:
            payload.update(extra)
        station.enqueue("TransactionEvent", payload, session, droppable=droppable)

    def _sample(
        self,
        connector_id: int,
        session: Session | None,
        context: str,
        measurands: tuple[str, ...],
        meter_wh: float | None = None,
    ) -> dict[str, Any]:
        """One MeterValueType: a sampledValue per measurand (the energy register when none applies)."""
        station = self.station
        connector = station.model.connector(connector_id)
        power_w = session.power_w if session is not None else 0.0
        if meter_wh is None:
            meter_wh = connector.meter_wh if connector is not None else 0.0
        sampled: list[dict[str, Any]] = []
        for measurand in measurands:
            if measurand == "Energy.Active.Import.Register":
                sampled.append(_value(int(meter_wh), context, measurand, "Wh"))
            elif measurand == "Power.Active.Import":
                sampled.append(_value(round(power_w, 1), context, measurand, "W"))
            elif measurand == "Current.Import":
                sampled.append(_value(round(power_w / (VOLTAGE_V * PHASES), 1), context, measurand, "A"))
            elif measurand == "Voltage":
                sampled.append(_value(VOLTAGE_V, context, measurand, "V"))
            elif measurand in ("Power.Offered", "Current.Offered") and connector is not None:
                offered_w = station.limit_w(connector, session)
                if measurand == "Power.Offered":
                    sampled.append(_value(round(offered_w, 1), context, measurand, "W"))
                else:
                    sampled.append(_value(round(offered_w / (VOLTAGE_V * PHASES), 1), context, measurand, "A"))
            elif measurand == "SoC" and session is not None:
                sampled.append(_value(round(session.ev.soc * 100), context, measurand, "Percent", "EV"))
        if not sampled:
            sampled.append(_value(int(meter_wh), context, "Energy.Active.Import.Register", "Wh"))
        return {"timestamp": timestamp(), "sampledValue": sampled}


def _id_token(session: Session) -> dict[str, str]:
    return {"idToken": session.id_token, "type": session.id_token_type}


def _value(value: float, context: str, measurand: str, unit: str, location: str = "Outlet") -> dict[str, Any]:
    return {"value": value, "context": context, "measurand": measurand, "location": location, "unitOfMeasure": {"unit": unit}}
