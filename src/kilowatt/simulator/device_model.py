"""A 2.0.1-style device model: components, their variables, each variable's attributes.

OCPP 2.0.1 replaced 1.6's flat configuration keys with a device model (Part 1 section 4, Part 2
appendix 3): a station is a set of *components* (``ChargingStation``, ``EVSE`` 1, ``Connector``
1/1, ``OCPPCommCtrlr``, ...), each with *variables*, each variable with up to four *attributes*
(``Actual`` — what it is, ``Target`` — what it aims at, ``MinSet``/``MaxSet`` — the bounds that may
be set), a mutability per attribute and *characteristics* (data type, unit, limits, allowed values).
A CSMS reads it with GetVariables or a report (GetBaseReport → NotifyReport) and writes it with
SetVariables; this module answers all three questions — does it exist, may it be read or written,
is the value valid — and produces the report entries. It knows nothing of the wire format's
transport (that is :mod:`kilowatt.simulator.v201`) but its dictionaries are 2.0.1's shapes.

Definitions are built once per connector count and shared by every station of that shape; a
station stores only the values it was told to change (as :mod:`.configuration` does for 1.6).
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

ACTUAL = "Actual"
ATTRIBUTE_TYPES = ("Actual", "Target", "MinSet", "MaxSet")

# (component name, component instance, evse id, connector id) -- names lower-cased: CSMSs disagree on case
ComponentKey = tuple[str, str | None, int | None, int | None]
VariableKey = tuple[ComponentKey, str, str | None]


class Mutability(enum.StrEnum):
    READ_ONLY = "ReadOnly"
    WRITE_ONLY = "WriteOnly"
    READ_WRITE = "ReadWrite"


class GetStatus(enum.StrEnum):
    """GetVariableStatusEnumType."""

    ACCEPTED = "Accepted"
    REJECTED = "Rejected"
    UNKNOWN_COMPONENT = "UnknownComponent"
    UNKNOWN_VARIABLE = "UnknownVariable"
    NOT_SUPPORTED_ATTRIBUTE_TYPE = "NotSupportedAttributeType"


class SetStatus(enum.StrEnum):
    """SetVariableStatusEnumType."""

    ACCEPTED = "Accepted"
    REJECTED = "Rejected"
    UNKNOWN_COMPONENT = "UnknownComponent"
    UNKNOWN_VARIABLE = "UnknownVariable"
    NOT_SUPPORTED_ATTRIBUTE_TYPE = "NotSupportedAttributeType"
    REBOOT_REQUIRED = "RebootRequired"


Value = str | Callable[[Any, "Variable"], str]  # a constant, or computed from the owner (live values)


@dataclass(frozen=True, slots=True)
class Attribute:
    """One attribute of a variable: its type, who may change it, and its value when never set."""

    type: str = ACTUAL
    mutability: Mutability = Mutability.READ_ONLY
    value: Value = ""
    persistent: bool = True
    constant: bool = False


@dataclass(frozen=True, slots=True)
class Variable:
    """One variable of one component, with its attributes and characteristics."""

    component: str
    name: str
    data_type: str  # DataEnumType: string, decimal, integer, dateTime, boolean, OptionList, SequenceList, MemberList
    attributes: tuple[Attribute, ...]
    component_instance: str | None = None
    instance: str | None = None
    evse_id: int | None = None
    connector_id: int | None = None
    unit: str | None = None
    min_limit: float | None = None  # numbers: the smallest value; strings: the shortest length
    max_limit: float | None = None  # numbers: the largest value; strings: the longest length
    values_list: str | None = None  # OptionList / MemberList / SequenceList members, comma-separated
    apply: Callable[[Any, str], None] | None = None  # makes a change of the Actual value take effect
    reboot_required: bool = False

    @property
    def component_key(self) -> ComponentKey:
        return (self.component.lower(), _lower(self.component_instance), self.evse_id, self.connector_id)

    @property
    def key(self) -> VariableKey:
        return (self.component_key, self.name.lower(), _lower(self.instance))

    def attribute(self, attribute_type: str) -> Attribute | None:
        for attribute in self.attributes:
            if attribute.type == attribute_type:
                return attribute
        return None

    @property
    def writable(self) -> bool:
        return any(a.mutability is not Mutability.READ_ONLY for a in self.attributes)

    def component_json(self) -> dict[str, Any]:
        component: dict[str, Any] = {"name": self.component}
        if self.component_instance is not None:
            component["instance"] = self.component_instance
        if self.evse_id is not None:
            evse: dict[str, Any] = {"id": self.evse_id}
            if self.connector_id is not None:
                evse["connectorId"] = self.connector_id
            component["evse"] = evse
        return component

    def variable_json(self) -> dict[str, Any]:
        variable: dict[str, Any] = {"name": self.name}
        if self.instance is not None:
            variable["instance"] = self.instance
        return variable

    def invalid(self, value: str) -> str | None:
        """Why ``value`` cannot be stored in this variable, or ``None``."""
        kind = self.data_type
        if kind in ("integer", "decimal"):
            try:
                number = int(value) if kind == "integer" else float(value)
            except ValueError:
                return f"expected {'an integer' if kind == 'integer' else 'a number'}"
            if number != number or number in (float("inf"), float("-inf")):
                return "expected a finite number"
            if self.min_limit is not None and number < self.min_limit:
                return f"below {self.min_limit:g}"
            if self.max_limit is not None and number > self.max_limit:
                return f"above {self.max_limit:g}"
            return None
        if kind == "boolean":
            return None if value.lower() in ("true", "false") else "expected true or false"
        if kind == "dateTime":
            try:
                datetime.fromisoformat(value.replace("Z", "+00:00"))
            except ValueError:
                return "expected an RFC 3339 date and time"
            return None
        if kind == "OptionList":
            return None if self.values_list is None or value in self.values_list.split(",") else "not one of the options"
        if kind in ("MemberList", "SequenceList"):
            members = [m.strip() for m in value.split(",") if m.strip()]
            if self.values_list is not None:
                allowed = set(self.values_list.split(","))
                unknown = [m for m in members if m not in allowed]
                if unknown:
                    return f"not supported: {', '.join(unknown)}"
            return None
        if self.min_limit is not None and len(value) < self.min_limit:
            return f"shorter than {self.min_limit:g} characters"
        if self.max_limit is not None and len(value) > self.max_limit:
            return f"longer than {self.max_limit:g} characters"
        return None

    def characteristics_json(self) -> dict[str, Any]:
        characteristics: dict[str, Any] = {"dataType": self.data_type, "supportsMonitoring": False}
        if self.unit is not None:
            characteristics["unit"] = self.unit
        if self.min_limit is not None:
            characteristics["minLimit"] = self.min_limit
        if self.max_limit is not None:
            characteristics["maxLimit"] = self.max_limit
        if self.values_list is not None:
            characteristics["valuesList"] = self.values_list
        return characteristics


class ReportBase(enum.StrEnum):
    CONFIGURATION = "ConfigurationInventory"  # what may be changed
    FULL = "FullInventory"  # everything
    SUMMARY = "SummaryInventory"  # availability and problems, per component


_SUMMARY_VARIABLES = frozenset({"available", "availabilitystate", "problem"})


class DeviceModel:
    """The device model of one station, over shared :class:`Variable` definitions."""

    __slots__ = ("_components", "_owner", "_values", "_variables")

    def __init__(self, variables: Sequence[Variable], owner: Any):
        self._variables: Mapping[VariableKey, Variable] = _index(variables)
        self._components = frozenset(v.component_key for v in variables)
        self._owner = owner
        self._values: dict[tuple[VariableKey, str], str] = {}

    def __iter__(self) -> Iterable[Variable]:
        return iter(self._variables.values())

    def find(self, component: Mapping[str, Any], variable: Mapping[str, Any]) -> tuple[Variable | None, bool]:
        """``(variable, component known)`` for a request's component and variable objects."""
        key = _component_key(component)
        if key not in self._components:
            # a connector asked for by its EVSE alone: the EVSE's only connector
            if key[3] is None and key[2] is not None and (key[0], key[1], key[2], 1) in self._components:
                key = (key[0], key[1], key[2], 1)
            else:
                return None, False
        found = self._variables.get((key, str(variable["name"]).lower(), _lower(variable.get("instance"))))
        return found, True

    def value(self, variable: Variable, attribute_type: str = ACTUAL) -> str:
        stored = self._values.get((variable.key, attribute_type))
        if stored is not None:
            return stored
        attribute = variable.attribute(attribute_type)
        if attribute is None:
            return ""
        default = attribute.value
        return default if isinstance(default, str) else default(self._owner, variable)

    def get(
        self, component: Mapping[str, Any], variable: Mapping[str, Any], attribute_type: str = ACTUAL
    ) -> tuple[GetStatus, str | None]:
        """One GetVariableData item: its status and, when Accepted, the value."""
        found, component_known = self.find(component, variable)
        if found is None:
            return (GetStatus.UNKNOWN_VARIABLE if component_known else GetStatus.UNKNOWN_COMPONENT), None
        attribute = found.attribute(attribute_type)
        if attribute is None:
            return GetStatus.NOT_SUPPORTED_ATTRIBUTE_TYPE, None
        if attribute.mutability is Mutability.WRITE_ONLY:
            return GetStatus.REJECTED, None
        return GetStatus.ACCEPTED, self.value(found, attribute_type)

    def set(
        self, component: Mapping[str, Any], variable: Mapping[str, Any], value: str, attribute_type: str = ACTUAL
    ) -> tuple[SetStatus, str | None]:
        """One SetVariableData item: ``(status, reason)``; the change takes effect when Accepted."""
        found, component_known = self.find(component, variable)
        if found is None:
            return (SetStatus.UNKNOWN_VARIABLE if component_known else SetStatus.UNKNOWN_COMPONENT), None
        attribute = found.attribute(attribute_type)
        if attribute is None:
            return SetStatus.NOT_SUPPORTED_ATTRIBUTE_TYPE, None
        if attribute.mutability is Mutability.READ_ONLY:
            return SetStatus.REJECTED, "read-only"
        reason = found.invalid(value)
        if reason is not None:
            return SetStatus.REJECTED, reason
        if found.data_type == "boolean":
            value = value.lower()
        self._values[(found.key, attribute_type)] = value
        if attribute_type == ACTUAL and found.apply is not None:
            found.apply(self._owner, value)
        return (SetStatus.REBOOT_REQUIRED if found.reboot_required else SetStatus.ACCEPTED), None

    def flag(self, component: str, name: str, instance: str | None = None) -> bool:
        return (
            self.value(self._variables[((component.lower(), None, None, None), name.lower(), _lower(instance))]).lower() == "true"
        )

    def setting(self, component: str, name: str, instance: str | None = None) -> str:
        return self.value(self._variables[((component.lower(), None, None, None), name.lower(), _lower(instance))])

    def report(
        self, base: ReportBase | None = None, wanted: Iterable[tuple[Mapping[str, Any], Mapping[str, Any] | None]] = ()
    ) -> list[dict[str, Any]]:
        """ReportDataType entries: a base report, or the ``(component, variable or None)`` pairs asked for."""
        if base is not None:
            chosen = [
                v
                for v in self._variables.values()
                if base is ReportBase.FULL
                or (base is ReportBase.CONFIGURATION and v.writable)
                or (base is ReportBase.SUMMARY and v.name.lower() in _SUMMARY_VARIABLES)
            ]
        else:
            seen: dict[VariableKey, Variable] = {}
            for component, variable in wanted:
                if variable is None:
                    key = _component_key(component)
                    seen.update({v.key: v for v in self._variables.values() if _component_matches(v.component_key, key)})
                else:
                    found, _ = self.find(component, variable)
                    if found is not None:
                        seen[found.key] = found
            chosen = list(seen.values())
        return [self._report_entry(v) for v in chosen]

    def _report_entry(self, variable: Variable) -> dict[str, Any]:
        attributes = []
        for attribute in variable.attributes:
            entry: dict[str, Any] = {
                "type": attribute.type,
                "mutability": attribute.mutability.value,
                "persistent": attribute.persistent,
                "constant": attribute.constant,
            }
            if attribute.mutability is not Mutability.WRITE_ONLY:
                entry["value"] = self.value(variable, attribute.type)[:2500]
            attributes.append(entry)
        return {
            "component": variable.component_json(),
            "variable": variable.variable_json(),
            "variableAttribute": attributes,
            "variableCharacteristics": variable.characteristics_json(),
        }


def _lower(value: object) -> str | None:
    return None if value is None else str(value).lower()


def _component_key(component: Mapping[str, Any]) -> ComponentKey:
    evse = component.get("evse") or {}
    return (str(component["name"]).lower(), _lower(component.get("instance")), evse.get("id"), evse.get("connectorId"))


def _component_matches(have: ComponentKey, asked: ComponentKey) -> bool:
    """A component asked for without EVSE (or connector) matches every EVSE (or connector) of that name."""
    return (
        have[0] == asked[0]
        and (asked[1] is None or have[1] == asked[1])
        and (asked[2] is None or have[2] == asked[2])
        and (asked[3] is None or have[3] == asked[3])
    )


def _index(variables: Sequence[Variable]) -> dict[VariableKey, Variable]:
    index: dict[VariableKey, Variable] = {}
    for variable in variables:
        if variable.key in index:
            raise ValueError(f"variable defined twice: {variable.component}.{variable.name}")
        index[variable.key] = variable
    return index
