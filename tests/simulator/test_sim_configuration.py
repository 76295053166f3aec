"""ChangeConfiguration / GetConfiguration answers, and keys that take effect on the station."""

from __future__ import annotations

from kilowatt.rpc.protocol import IncomingCall
from kilowatt.simulator.config import StationConfig
from kilowatt.simulator.station import SimulatedStation
from kilowatt.simulator.v16 import V16Adapter


def station() -> SimulatedStation:
    return SimulatedStation("CP-CONF", "ws://127.0.0.1:1/ocpp", StationConfig(connectors=3))


async def command(s: SimulatedStation, action: str, payload: dict) -> dict:
    s.adapter.dialect.schemas.validate_request(action, payload)
    response = await s.adapter.handle(IncomingCall("m1", action, payload))
    s.adapter.dialect.schemas.validate_response(action, response)
    return response


async def change(s: SimulatedStation, key: str, value: str) -> str:
    return (await command(s, "ChangeConfiguration", {"key": key, "value": value}))["status"]


async def test_known_keys_accepted_readonly_rejected_unknown_not_supported() -> None:
    s = station()
    assert await change(s, "LocalPreAuthorize", "true") == "Accepted"
    assert await change(s, "NumberOfConnectors", "5") == "Rejected"
    assert await change(s, "NoSuchKey", "1") == "NotSupported"
    assert await change(s, "HeartbeatInterval", "soon") == "Rejected"
    assert await change(s, "MeterValuesSampledData", "Energy.Active.Import.Register,Bogus") == "Rejected"


async def test_heartbeat_and_meter_interval_take_effect() -> None:
    s = station()
    assert await change(s, "HeartbeatInterval", "42") == "Accepted"
    assert s.model.heartbeat_interval_s == 42
    assert await change(s, "MeterValueSampleInterval", "7") == "Accepted"
    assert s.model.meter_values_interval_s == 7
    assert await change(s, "MeterValuesSampledData", "Energy.Active.Import.Register,SoC") == "Accepted"
    assert isinstance(s.adapter, V16Adapter)
    assert s.adapter.measurands == ("Energy.Active.Import.Register", "SoC")
    assert await change(s, "allowofflinetxforunknownid", "FALSE") == "Accepted"  # key case does not matter
    assert s.allow_offline_tx is False


async def test_get_configuration_reports_values_and_unknown_keys() -> None:
    s = station()
    await change(s, "HeartbeatInterval", "120")
    response = await command(s, "GetConfiguration", {"key": ["HeartbeatInterval", "NumberOfConnectors", "Nope"]})
    assert response["configurationKey"] == [
        {"key": "HeartbeatInterval", "readonly": False, "value": "120"},
        {"key": "NumberOfConnectors", "readonly": True, "value": "3"},
    ]
    assert response["unknownKey"] == ["Nope"]
    everything = await command(s, "GetConfiguration", {})
    names = {k["key"] for k in everything["configurationKey"]}
    assert {"MeterValueSampleInterval", "SupportedFeatureProfiles", "AuthorizeRemoteTxRequests"} <= names
    assert "unknownKey" not in everything


async def test_unsupported_command_is_a_call_error() -> None:
    import pytest

    from kilowatt.rpc.errors import ErrorKind, OcppError

    s = station()
    with pytest.raises(OcppError) as raised:
        await s.adapter.handle(IncomingCall("m1", "UpdateFirmware", {"location": "x", "retrieveDate": "2024-01-01T00:00:00Z"}))
    assert raised.value.kind is ErrorKind.NOT_SUPPORTED
