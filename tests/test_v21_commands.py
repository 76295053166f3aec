"""The 15 operations OCPP 2.1 adds, sent from the API to a hand-written 2.1 station over a real
socket: each CALL valid by 2.1's request schema, the station's answer in the HTTP reply, what the
station accepted stored (tariffs, DER controls); a station's invalid answer gets a CALLRESULTERROR;
a 1.6 or 2.0.1 station asked for a 2.1-only operation is refused (422) with nothing sent.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

import httpx
import pytest

from charger import TestCharger, now, sent
from conftest import RunningCsms
from kilowatt.ocpp import v21

TARIFF = {
    "tariff_id": "T-1",
    "currency": "EUR",
    "description": [{"content": "Standard", "language": "en"}],
    "energy": {
        "prices": [
            {"price": 0.35, "conditions": {"start_time_of_day": "07:00", "end_time_of_day": "23:00", "day_of_week": ["Monday"]}}
        ],
        "tax_rates": [{"type": "VAT", "tax_pct": 21}],
    },
    "idle_time": {"prices": [{"price": 0.1, "conditions": {"min_idle_time_s": 600}}]},
    "fixed_fee": {"prices": [{"price": 1.0, "conditions": {"payment_brand": "VISA"}}]},
    "max_cost": {"incl_tax": 50},
}
STATUS_OK = {"status": "Accepted"}


def station_answers(answers: dict[str, Any]) -> Any:
    async def responder(action: str, payload: dict[str, Any]) -> Any:
        v21.DIALECT.schemas.validate_request(action, payload)  # what the CSMS sent is valid 2.1
        answer = answers.get(action, ("NotImplemented", action))
        return answer(payload) if callable(answer) else answer

    return responder


async def connected(csms: RunningCsms, subprotocol: str = "ocpp2.1", station_id: str = "CS-21") -> Any:
    await csms.services.stations.create(station_id)
    return TestCharger.connect(csms.ocpp_url, station_id, subprotocols=[subprotocol])


async def post(
    api: httpx.AsyncClient, path: str, body: dict[str, Any] | None = None, station_id: str = "CS-21"
) -> httpx.Response:
    return await api.post(f"/api/v1/stations/{station_id}/{path}", json=body)


async def start_transaction(cp: TestCharger, station_transaction_id: str = "TX-1") -> None:
    answer = await cp.call(
        "TransactionEvent",
        {
            "eventType": "Started",
            "timestamp": now(),
            "triggerReason": "Authorized",
            "seqNo": 0,
            "transactionInfo": {"transactionId": station_transaction_id},
            "evse": {"id": 1, "connectorId": 1},
            "idToken": {"idToken": "TOKEN-1", "type": "ISO14443"},
        },
    )
    assert isinstance(answer, dict)


async def our_transaction_id(api: httpx.AsyncClient, station_transaction_id: str) -> int:
    response = await api.get(f"/api/v1/stations/CS-21/transactions/{station_transaction_id}")
    assert response.status_code == 200, response.text
    return response.json()["id"]


async def test_tariffs_set_listed_changed_and_cleared(csms: RunningCsms, api: httpx.AsyncClient) -> None:
    assignments = {
        "status": "Accepted",
        "tariffAssignments": [{"tariffId": "T-1", "tariffKind": "DefaultTariff", "evseIds": [1]}],
    }
    async with await connected(csms) as cp:
        await start_transaction(cp)
        cp.responder = station_answers(
            {
                "SetDefaultTariff": STATUS_OK,
                "GetTariffs": assignments,
                "ChangeTransactionTariff": STATUS_OK,
                "ClearTariffs": {"clearTariffsResult": [{"tariffId": "T-1", "status": "Accepted"}]},
            }
        )
        async with cp.answering():
            response = await post(api, "tariffs/default", {"evse_id": 1, "tariff": TARIFF})
            assert response.status_code == 200, response.text
            assert (response.json()["action"], response.json()["status"]) == ("SetDefaultTariff", "Accepted")
            [payload] = sent(cp, "SetDefaultTariff")
            assert payload["tariff"]["energy"]["prices"][0] == {
                "priceKwh": 0.35,
                "conditions": {"startTimeOfDay": "07:00", "endTimeOfDay": "23:00", "dayOfWeek": ["Monday"]},
            }
            assert payload["tariff"]["fixedFee"]["prices"][0] == {"priceFixed": 1.0, "conditions": {"paymentBrand": "VISA"}}

            response = await post(api, "get-tariffs", {"evse_id": 1})
            assert response.status_code == 200, response.text
            assert response.json()["result"]["assignments"][0]["tariff_id"] == "T-1"
            assert response.json()["result"]["assignments"][0]["kind"] == "DefaultTariff"

            transaction_id = await our_transaction_id(api, "TX-1")
            response = await post(
                api, "transaction-tariff", {"transaction_id": transaction_id, "tariff": TARIFF | {"tariff_id": "T-2"}}
            )
            assert response.status_code == 200, response.text
            assert sent(cp, "ChangeTransactionTariff")[0]["transactionId"] == "TX-1"

            stored = (await api.get("/api/v1/stations/CS-21/tariffs")).json()
            assert sorted((t["kind"], t["tariff_id"], t["evse_id"], t["station_transaction_id"]) for t in stored) == [
                ("Default", "T-1", 1, None),
                ("Transaction", "T-2", None, "TX-1"),
            ]

            response = await post(api, "tariffs/clear", {"tariff_ids": ["T-1"]})
            assert response.status_code == 200, response.text
            assert response.json()["result"]["results"] == [{"status": "Accepted", "tariff_id": "T-1", "status_info": None}]
    stored = (await api.get("/api/v1/stations/CS-21/tariffs")).json()
    assert [t["tariff_id"] for t in stored] == ["T-2"]


async def test_a_rejected_tariff_is_not_stored(csms: RunningCsms, api: httpx.AsyncClient) -> None:
    async with await connected(csms) as cp:
        cp.responder = station_answers({"SetDefaultTariff": {"status": "TooManyElements", "statusInfo": {"reasonCode": "Max5"}}})
        async with cp.answering():
            response = await post(api, "tariffs/default", {"evse_id": 0, "tariff": TARIFF})
    assert response.status_code == 200, response.text
    assert response.json()["result"] == {
        "status": "TooManyElements",
        "status_info": {"reason_code": "Max5", "additional_info": None},
    }
    assert (await api.get("/api/v1/stations/CS-21/tariffs")).json() == []


async def test_der_controls_set_reported_and_cleared(csms: RunningCsms, api: httpx.AsyncClient) -> None:
    curve = {
        "priority": 1,
        "y_unit": "PctMaxVar",
        "points": [{"x": 0.9, "y": 30}, {"x": 1.1, "y": -30}],
        "hysteresis": {"high": 1},
    }
    async with await connected(csms) as cp:
        cp.responder = station_answers(
            {
                "SetDERControl": {"status": "Accepted", "supersededIds": ["old"]},
                "GetDERControl": STATUS_OK,
                "ClearDERControl": STATUS_OK,
            }
        )
        async with cp.answering():
            response = await post(
                api, "der-controls", {"control_id": "vv-1", "control_type": "VoltVar", "is_default": True, "curve": curve}
            )
            assert response.status_code == 200, response.text
            assert response.json()["result"]["superseded_ids"] == ["old"]
            [payload] = sent(cp, "SetDERControl")
            assert payload["curve"] == {
                "priority": 1,
                "yUnit": "PctMaxVar",
                "curveData": [{"x": 0.9, "y": 30}, {"x": 1.1, "y": -30}],
                "hysteresis": {"hysteresisHigh": 1},
            }
            pf = {"priority": 0, "displacement": 0.95, "excitation": True}
            response = await post(
                api,
                "der-controls",
                {"control_id": "pf-1", "control_type": "FixedPFInject", "is_default": False, "fixed_power_factor": pf},
            )
            assert response.status_code == 200, response.text
            assert sent(cp, "SetDERControl")[1]["fixedPFInject"] == pf

            # the wrong setting for the type: refused before anything is sent
            response = await post(
                api, "der-controls", {"control_id": "x", "control_type": "FreqDroop", "is_default": False, "curve": curve}
            )
            assert response.status_code == 422, response.text
            assert "FreqDroop" in response.json()["detail"]
            assert len(sent(cp, "SetDERControl")) == 2

            stored = (await api.get("/api/v1/stations/CS-21/der-controls")).json()
            assert [(c["control_id"], c["control_type"], c["is_default"]) for c in stored] == [
                ("pf-1", "FixedPFInject", False),
                ("vv-1", "VoltVar", True),
            ]

            response = await post(api, "der-controls/get", {"request_id": 9, "control_type": "VoltVar"})
            assert response.status_code == 200, response.text
            assert sent(cp, "GetDERControl") == [{"requestId": 9, "controlType": "VoltVar"}]

            response = await post(api, "der-controls/clear", {"is_default": True, "control_id": "vv-1"})
            assert response.status_code == 200, response.text
    stored = (await api.get("/api/v1/stations/CS-21/der-controls")).json()
    assert [c["control_id"] for c in stored] == ["pf-1"]


async def test_energy_payment_and_stream_operations(csms: RunningCsms, api: httpx.AsyncClient) -> None:
    streams = {"constantStreamData": [{"id": 3, "variableMonitoringId": 8, "params": {"interval": 30, "values": 5}}]}
    async with await connected(csms) as cp:
        await start_transaction(cp, "TX-7")
        cp.responder = station_answers(
            {
                "AFRRSignal": STATUS_OK,
                "UsePriorityCharging": {"status": "NoProfile"},
                "NotifyAllowedEnergyTransfer": STATUS_OK,
                "RequestBatterySwap": STATUS_OK,
                "NotifyWebPaymentStarted": {},
                "GetPeriodicEventStream": streams,
                "AdjustPeriodicEventStream": {
                    "status": "Rejected",
                    "statusInfo": {"reasonCode": "TooFast", "additionalInfo": "30 s minimum"},
                },
                "UpdateDynamicSchedule": STATUS_OK,
            }
        )
        transaction_id = await our_transaction_id(api, "TX-7")
        async with cp.answering():
            cases = [
                (
                    "afrr-signal",
                    {"timestamp": "2025-06-01T12:00:00Z", "signal": -50},
                    "AFRRSignal",
                    {"timestamp": "2025-06-01T12:00:00.000Z", "signal": -50},
                ),
                (
                    "priority-charging",
                    {"transaction_id": transaction_id, "activate": True},
                    "UsePriorityCharging",
                    {"transactionId": "TX-7", "activate": True},
                ),
                (
                    "allowed-energy-transfer",
                    {"transaction_id": transaction_id, "modes": ["AC_three_phase", "AC_BPT"]},
                    "NotifyAllowedEnergyTransfer",
                    {"transactionId": "TX-7", "allowedEnergyTransfer": ["AC_three_phase", "AC_BPT"]},
                ),
                (
                    "battery-swap",
                    {"id_token": "TOKEN-1", "request_id": 4},
                    "RequestBatterySwap",
                    {"idToken": {"idToken": "TOKEN-1", "type": "Central"}, "requestId": 4},
                ),
                (
                    "web-payment-started",
                    {"evse_id": 1, "timeout_s": 120},
                    "NotifyWebPaymentStarted",
                    {"evseId": 1, "timeout": 120},
                ),
                (
                    "event-streams/adjust",
                    {"stream_id": 3, "params": {"interval_s": 10}},
                    "AdjustPeriodicEventStream",
                    {"id": 3, "params": {"interval": 10}},
                ),
                ("get-event-streams", None, "GetPeriodicEventStream", {}),
            ]
            results = {}
            for path, body, action, payload in cases:
                response = await post(api, path, body)
                assert response.status_code == 200, (path, response.text)
                assert response.json()["action"] == action
                assert sent(cp, action)[-1] == payload
                results[action] = response.json()["result"]
    assert results["UsePriorityCharging"]["status"] == "NoProfile"
    assert results["AdjustPeriodicEventStream"]["status_info"] == {"reason_code": "TooFast", "additional_info": "30 s minimum"}
    assert results["GetPeriodicEventStream"]["streams"] == [
        {"stream_id": 3, "variable_monitoring_id": 8, "params": {"interval_s": 30, "values": 5}}
    ]
    assert results["NotifyWebPaymentStarted"] == {"status": None}
    commands = (await api.get("/api/v1/stations/CS-21/commands", params={"operation": "afrr_signal"})).json()["items"]
    assert [(c["action"], c["outcome"], c["status"]) for c in commands] == [("AFRRSignal", "answered", "Accepted")]


async def test_a_station_answer_that_breaks_the_schema_gets_a_callresulterror(csms: RunningCsms, api: httpx.AsyncClient) -> None:
    async with await connected(csms) as cp:
        request = asyncio.create_task(post(api, "afrr-signal", {"timestamp": "2025-06-01T12:00:00Z", "signal": 1}))
        call = json.loads(await asyncio.wait_for(cp.socket.recv(), 5))
        assert call[0] == 2 and call[2] == "AFRRSignal"
        await cp.send_raw(json.dumps([3, call[1], {"status": "Maybe"}]))  # not a status 2.1 knows
        frame = json.loads(await asyncio.wait_for(cp.socket.recv(), 5))
        assert frame[:3] == [5, call[1], "PropertyConstraintViolation"] and isinstance(frame[4], dict)
        response = await request
        assert response.status_code == 502, response.text
        assert response.json()["error_code"] == "PropertyConstraintViolation"
        assert (await cp.call("Heartbeat", {}))["currentTime"]


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("afrr-signal", {"timestamp": "2025-06-01T12:00:00Z", "signal": 1}),
        ("tariffs/default", {"evse_id": 0, "tariff": TARIFF}),
        ("der-controls/clear", {"is_default": True}),
        ("get-event-streams", None),
        ("web-payment-started", {"evse_id": 1, "timeout_s": 5}),
    ],
)
@pytest.mark.parametrize("subprotocol", ["ocpp1.6", "ocpp2.0.1"])
async def test_21_only_operations_are_refused_for_older_stations(
    csms: RunningCsms, api: httpx.AsyncClient, subprotocol: str, path: str, body: dict[str, Any] | None
) -> None:
    async with await connected(csms, subprotocol, "CS-OLD") as cp:
        async with cp.answering():
            response = await post(api, path, body, station_id="CS-OLD")
    assert response.status_code == 422, response.text
    assert "has no operation" in response.json()["detail"]
    assert [action for action, _ in cp.received_calls if action not in ("GetConfiguration", "GetBaseReport")] == []
    [record] = (await api.get("/api/v1/stations/CS-OLD/commands")).json()["items"]
    assert record["outcome"] == "invalid" and record["action"] is None


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("tariffs/default", {"evse_id": -1, "tariff": TARIFF}),
        ("tariffs/default", {"evse_id": 0, "tariff": TARIFF | {"currency": "euro"}}),
        ("tariffs/default", {"evse_id": 0, "tariff": TARIFF | {"unknown": 1}}),
        ("tariffs/default", {"evse_id": 0, "tariff": TARIFF | {"energy": {"prices": []}}}),
        ("afrr-signal", {"timestamp": "2025-06-01T12:00:00", "signal": 1}),
        ("afrr-signal", {"timestamp": "2025-06-01T12:00:00Z", "signal": 2**31}),
        ("afrr-signal", {"timestamp": "2025-06-01T12:00:00Z", "signal": "1"}),
        ("der-controls", {"control_id": "x", "control_type": "Nope", "is_default": True}),
        ("dynamic-schedule", {"charging_profile_id": 1, "update": {"discharge_limit": 5}}),
        ("allowed-energy-transfer", {"transaction_id": 1, "modes": []}),
        ("event-streams/adjust", {"stream_id": 1, "params": {"interval_s": -1}}),
    ],
)
async def test_bad_bodies_are_422_and_nothing_is_sent(
    csms: RunningCsms, api: httpx.AsyncClient, path: str, body: dict[str, Any]
) -> None:
    async with await connected(csms) as cp:
        async with cp.answering():
            response = await post(api, path, body)
    assert response.status_code == 422, response.text
    assert (await api.get("/api/v1/stations/CS-21/commands")).json()["items"] == []


async def test_a_transaction_of_another_station_or_unknown_is_404(csms: RunningCsms, api: httpx.AsyncClient) -> None:
    async with await connected(csms) as cp:
        async with cp.answering():
            response = await post(api, "priority-charging", {"transaction_id": 999, "activate": True})
    assert response.status_code == 404, response.text


async def test_a_16_transaction_cannot_be_named_to_a_21_operation(csms: RunningCsms, api: httpx.AsyncClient) -> None:
    """A transaction without an id of the station's own (started over 1.6) cannot be sent in 2.1 terms."""
    await csms.services.stations.create("CS-21")
    async with TestCharger.connect(csms.ocpp_url, "CS-21", subprotocols=["ocpp1.6"]) as cp16:
        await cp16.boot()
        started = await cp16.call("StartTransaction", {"connectorId": 1, "idTag": "TAG", "meterStart": 0, "timestamp": now()})
    async with TestCharger.connect(csms.ocpp_url, "CS-21", subprotocols=["ocpp2.1"]) as cp:
        async with cp.answering():
            response = await post(api, "priority-charging", {"transaction_id": started["transactionId"], "activate": True})
    assert response.status_code == 422, response.text
    assert "id of the station's own" in response.json()["detail"]


async def test_certificate_signed_names_2_1s_v2g20_certificate_to_a_21_station_only(csms: RunningCsms, api: httpx.AsyncClient) -> None:
    """A 2.1 station that asked for a V2G20Certificate gets the chain typed so; a 2.0.1 station cannot be sent that type (422)."""
    chain = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----"
    async with await connected(csms) as cp:
        answer = await cp.call("SignCertificate", {"csr": "-----BEGIN CERTIFICATE REQUEST-----z", "certificateType": "V2G20Certificate"})
        assert answer["status"] == "Rejected"
        cp.responder = station_answers({"CertificateSigned": STATUS_OK})
        async with cp.answering():
            response = await post(api, "certificates/signed", {"certificate_chain": chain})
        assert response.status_code == 200, response.text
        assert sent(cp, "CertificateSigned") == [{"certificateChain": chain, "certificateType": "V2G20Certificate"}]
    async with await connected(csms, "ocpp2.0.1", "CS-201") as cp201:
        async with cp201.answering():
            refused = await post(api, "certificates/signed", {"certificate_chain": chain, "certificate_type": "V2G20Certificate"}, "CS-201")
        assert refused.status_code == 422 and "V2G20Certificate" in refused.text
        assert cp201.received_calls == []
