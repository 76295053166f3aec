"""A station's device-model variables: the stored copy, and GetVariables/SetVariables through the station.

``GET /stations/{id}/variables`` reads what is stored (no round trip): every attribute the station
reported (NotifyReport, the answers to GetVariables) or accepted (SetVariables). ``POST
.../variables/get`` asks the station now (GetVariables) and stores what it read out;
``PATCH .../variables`` sets values (SetVariables) and stores those the station took. A variable
is named as the GET lists it: component (+instance, EVSE, connector), variable (+instance), and
attribute type. OCPP 2.0.1 on; an OCPP 1.6 station has configuration keys instead
(``/configuration``), and these two commands are refused for it with 422.

This module deliberately does not use ``from __future__ import annotations`` (FastAPI reads the
annotations of the generated endpoints).
"""

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from pydantic import Field

from kilowatt.api.auth import ROLE_RANK, Principal, reader
from kilowatt.api.errors import error_responses
from kilowatt.api.routes.remote_operations import (
    Body,
    DeviceModelOut,
    Name,
    Operation,
    StationId,
    VariableAttributeOut,
    add_routes,
)
from kilowatt.api.schemas import BoundedInt, PrintableText, Text
from kilowatt.commands import model as m
from kilowatt.services.bundle import Services
from kilowatt.services.command_service import CommandAnswer
from kilowatt.services.configuration import PASSWORD_COMPONENT, PASSWORD_VARIABLE
from kilowatt.services.passwords import MAX_PASSWORD_LENGTH, MIN_PASSWORD_LENGTH
from kilowatt.services.redaction import secret_setting

router = APIRouter(tags=["device model"], responses=error_responses(403, 404, 413, command=True))

MAX_VARIABLES = 100  # per request: a station's ItemsPerMessage/BytesPerMessage limits are usually far lower
EvseId = BoundedInt(0, 1000)  # the 2.0.1 dialect's plausibility bound
Instance = PrintableText(50)
AttributeTypeName = Literal["Actual", "Target", "MinSet", "MaxSet"]


class VariableName(Body):
    """One attribute of one variable, named as ``GET /variables`` lists it."""

    component: Name = Field(description="e.g. OCPPCommCtrlr")  # type: ignore[valid-type]
    component_instance: Instance | None = None  # type: ignore[valid-type]
    evse_id: EvseId | None = Field(None, description="The EVSE the component is on (omit or 0: the station)")  # type: ignore[valid-type]
    connector_id: EvseId | None = Field(None, description="The connector of that EVSE the component is on")  # type: ignore[valid-type]
    variable: Name = Field(description="e.g. HeartbeatInterval")  # type: ignore[valid-type]
    variable_instance: Instance | None = None  # type: ignore[valid-type]
    attribute_type: AttributeTypeName | None = Field(None, description="Actual when omitted")

    def component_ref(self) -> m.ComponentRef:
        return m.ComponentRef(self.component, self.component_instance, self.evse_id or None, self.connector_id)

    def variable_ref(self) -> m.VariableRef:
        return m.VariableRef(self.variable, self.variable_instance)

    def attribute(self) -> m.AttributeType | None:
        return m.AttributeType(self.attribute_type) if self.attribute_type else None


class VariableValue(VariableName):
    value: Text(1000) = Field(description="The value to set (OCPP 2.0.1 attributeValue, up to 1000 characters)")  # type: ignore[valid-type]


class GetVariablesBody(Body):
    variables: list[VariableName] = Field(min_length=1, max_length=MAX_VARIABLES)


class SetVariablesBody(Body):
    variables: list[VariableValue] = Field(min_length=1, max_length=MAX_VARIABLES)


def _services(request: Request) -> Services:
    return request.app.state.services


async def _get_variables(services: Services, station_id: str, body: GetVariablesBody, who: Principal) -> CommandAnswer[Any]:
    requests = [m.VariableRequest(v.component_ref(), v.variable_ref(), v.attribute()) for v in body.variables]
    return await services.configuration.get_variables(station_id, requests, who.name)


async def _set_variables(services: Services, station_id: str, body: SetVariablesBody, who: Principal) -> CommandAnswer[Any]:
    for v in body.variables:
        if secret_setting(v.variable) and ROLE_RANK[who.role] < ROLE_RANK["admin"]:
            raise HTTPException(403, f"setting {v.variable} (a credential) needs the admin role")
        is_password = (v.component.casefold(), v.variable.casefold()) == (
            PASSWORD_COMPONENT.casefold(),
            PASSWORD_VARIABLE.casefold(),
        )
        if is_password and not MIN_PASSWORD_LENGTH <= len(v.value) <= MAX_PASSWORD_LENGTH:
            raise HTTPException(422, f"{v.variable} must be {MIN_PASSWORD_LENGTH} to {MAX_PASSWORD_LENGTH} characters")
    settings = [m.VariableSetting(v.component_ref(), v.variable_ref(), v.value, v.attribute()) for v in body.variables]
    return await services.configuration.set_variables(station_id, settings, who.name)


OPERATIONS: tuple[Operation, ...] = (
    Operation(
        "get_variables",
        "variables/get",
        "Read variables from the station now (GetVariables) and store what it reads out",
        GetVariablesBody,
        None,
        m.GetVariablesResult,
        description="Each reading has the station's `attribute_status` (Accepted with its value, or Rejected,"
        " UnknownComponent, UnknownVariable, NotSupportedAttributeType). OCPP 2.0.1 on.",
        run=_get_variables,
    ),
    Operation(
        "set_variables",
        "variables",
        "Set variables on the station (SetVariables) and store those it took",
        SetVariablesBody,
        None,
        m.SetVariablesResult,
        method="PATCH",
        description="Each change has the station's `attribute_status`: Accepted, RebootRequired (both stored),"
        " Rejected, UnknownComponent, UnknownVariable or NotSupportedAttributeType. A credential (e.g."
        f" {PASSWORD_COMPONENT}.{PASSWORD_VARIABLE}) needs the admin role and is stored as ***; a new"
        f" {PASSWORD_VARIABLE} the station took is the password it must log in with from then on. OCPP 2.0.1 on.",
        run=_set_variables,
    ),
)
add_routes(router, OPERATIONS)


@router.get(
    "/stations/{station_id}/variables",
    summary="The station's device model as stored (no round trip)",
    description="What the station last reported or accepted, attribute by attribute, in key order.",
    response_model=DeviceModelOut,
)
async def stored_variables(
    request: Request,
    station_id: str = StationId,
    component: Annotated[Name | None, Query(description="Only this component")] = None,  # type: ignore[valid-type]
    variable: Annotated[Name | None, Query(description="Only this variable")] = None,  # type: ignore[valid-type]
    evse_id: Annotated[EvseId | None, Query(description="Only components on this EVSE (0: the station's own)")] = None,  # type: ignore[valid-type]
    who: Principal = Depends(reader),
) -> DeviceModelOut:
    await _services(request).stations.get(station_id)  # 404 for an unknown station
    found = await _services(request).configuration.variables(station_id, component, variable, evse_id)
    return DeviceModelOut(station_id=station_id, variables=[VariableAttributeOut.model_validate(v) for v in found])
