"""Metering (OCPP 2.0.1 block J): MeterValues outside transactions (EVSE 0 is the main meter)."""

from __future__ import annotations

from kilowatt.ocpp.context import StationContext
from kilowatt.ocpp.v201.convert import Payload, meter_samples
from kilowatt.services.bundle import Services


async def meter_values(services: Services, station: StationContext, payload: Payload) -> Payload:
    samples = meter_samples(payload["meterValue"], "meterValue")
    await services.transactions.record_meter_values(station.station_id, payload["evseId"], 0, list(samples))
    return {}


ROUTES = {"MeterValues": meter_values}
