"""Version-agnostic operations as OCPP 1.6 CALLs (the CSMS-initiated side of 1.6 and its security extension).

Parameters arrive in snake_case, already checked by the API. Most map onto the 1.6 payload by
camelCasing their names; the table below names the exceptions. Targets: ``evse_id`` is the 1.6
``connectorId`` (1.6 connector N is EVSE N); a body that gives ``connector_id`` and no ``evse_id``
means the 1.6 connector id directly.

``send_local_list`` entries arrive in domain terms (``id_token``, ``status``, ``expiry_date``,
``parent_id_token``; an entry without ``status`` removes the token) and become 1.6
``{idTag, idTagInfo}`` here; a 1.6 idTag is at most 20 characters, so a longer token cannot be in a
1.6 list and the command is refused as invalid, naming the tokens.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from kilowatt.ocpp.naming import camel, camelize, snakeize
from kilowatt.services.commands import InvalidCommand, UnsupportedOperation

MAX_ID_TAG_LENGTH = 20  # 1.6 IdToken is CiString20Type

# operation -> (1.6 action, {domain parameter: 1.6 field} for names camelCase alone does not give)
OPERATIONS: dict[str, tuple[str, dict[str, str]]] = {
    "reset": ("Reset", {}),
    "remote_start": ("RemoteStartTransaction", {"id_token": "idTag", "charging_profile": "chargingProfile"}),
    "remote_stop": ("RemoteStopTransaction", {}),
    "unlock": ("UnlockConnector", {}),
    "change_availability": ("ChangeAvailability", {}),
    "change_configuration": ("ChangeConfiguration", {}),
    "get_configuration": ("GetConfiguration", {"keys": "key"}),
    "clear_cache": ("ClearCache", {}),
    "data_transfer": ("DataTransfer", {}),
    "trigger_message": ("TriggerMessage", {}),
    "update_firmware": ("UpdateFirmware", {}),
    "get_diagnostics": ("GetDiagnostics", {}),
    "get_local_list_version": ("GetLocalListVersion", {}),
    "send_local_list": ("SendLocalList", {}),
    "reserve_now": ("ReserveNow", {"id_token": "idTag", "parent_id_token": "parentIdTag"}),
    "cancel_reservation": ("CancelReservation", {}),
    "set_charging_profile": ("SetChargingProfile", {"charging_profile": "csChargingProfiles"}),
    "clear_charging_profile": ("ClearChargingProfile", {"charging_profile_id": "id"}),
    "get_composite_schedule": ("GetCompositeSchedule", {}),
    "extended_trigger_message": ("ExtendedTriggerMessage", {}),
    "get_log": ("GetLog", {}),
    "signed_update_firmware": ("SignedUpdateFirmware", {}),
    "install_certificate": ("InstallCertificate", {}),
    "get_installed_certificate_ids": ("GetInstalledCertificateIds", {}),
    "delete_certificate": ("DeleteCertificate", {}),
    "certificate_signed": ("CertificateSigned", {}),
}


class V16Commands:
    """The :class:`~kilowatt.services.commands.CommandTranslator` for OCPP 1.6."""

    def request(self, operation: str, params: Mapping[str, Any]) -> tuple[str, dict[str, Any]]:
        try:
            action, renames = OPERATIONS[operation]
        except KeyError:
            raise UnsupportedOperation(f"OCPP 1.6 has no operation {operation!r}") from None
        payload: dict[str, Any] = {}
        params = dict(params)
        evse_id = params.pop("evse_id", None)
        connector_id = params.pop("connector_id", None)
        if evse_id is not None or connector_id is not None:
            payload["connectorId"] = evse_id if evse_id is not None else connector_id
        if operation == "send_local_list":
            params["local_authorization_list"] = local_list_entries(params.get("local_authorization_list") or [])
        for name, value in params.items():
            if value is None:
                continue
            payload[renames.get(name) or camel(name)] = camelize(value)
        return action, payload

    def answer(self, operation: str, payload: Mapping[str, Any]) -> dict[str, Any]:
        return snakeize(dict(payload))


def local_list_entries(entries: list[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Domain local-list entries as 1.6 AuthorizationData (snake_case here; camelCased by the caller).

    An entry without ``status`` removes the token from the station's list: in 1.6 that is an
    AuthorizationData without idTagInfo (allowed in a Differential update only).
    """
    too_long = [entry["id_token"] for entry in entries if len(entry["id_token"]) > MAX_ID_TAG_LENGTH]
    if too_long:
        raise InvalidCommand(
            f"OCPP 1.6 id tags are at most {MAX_ID_TAG_LENGTH} characters, so these id tokens cannot be in a 1.6 "
            f"local list: {', '.join(repr(t) for t in too_long)}"
        )
    converted = []
    for entry in entries:
        item: dict[str, Any] = {"id_tag": entry["id_token"]}
        if entry.get("status") is not None:
            info: dict[str, Any] = {"status": entry["status"]}
            if entry.get("expiry_date") is not None:
                info["expiry_date"] = entry["expiry_date"]
            if entry.get("parent_id_token") is not None:
                info["parent_id_tag"] = entry["parent_id_token"]
            item["id_tag_info"] = info
        converted.append(item)
    return converted
