"""Authorize: what a station is told about an id token, within what its OCPP version can carry."""

from __future__ import annotations

from charger import TestCharger
from conftest import RunningCsms


async def test_group_id_too_long_for_16_is_left_out_not_answered_with_an_error(csms: RunningCsms, charger: TestCharger) -> None:
    group = "G" * 30
    await csms.services.authorization.create(group)
    await csms.services.authorization.create("TAG-1", parent_id_token=group)
    await charger.boot()
    assert (await charger.call("Authorize", {"idTag": "TAG-1"}))["idTagInfo"] == {"status": "Accepted"}
