"""The services of one process, bundled so the version adapters and the API take one argument."""

from __future__ import annotations

from dataclasses import dataclass

from kilowatt.config import Settings
from kilowatt.services.api_keys import ApiKeyService
from kilowatt.services.audit import AuditService
from kilowatt.services.authorization import AuthorizationService
from kilowatt.services.battery_swaps import BatterySwapService
from kilowatt.services.charging_reports import ChargingReportService
from kilowatt.services.command_service import CommandService
from kilowatt.services.configuration import ConfigurationService
from kilowatt.services.customer_information import CustomerInformationService
from kilowatt.services.data_transfer import DataTransferService
from kilowatt.services.der import DerService
from kilowatt.services.display_messages import DisplayMessageService
from kilowatt.services.dynamic_charging import DynamicChargingService
from kilowatt.services.event_streams import EventStreamService
from kilowatt.services.firmware import FirmwareService
from kilowatt.services.local_list import LocalListService
from kilowatt.services.monitoring import MonitoringService
from kilowatt.services.payments import PaymentService
from kilowatt.services.reservations import ReservationService
from kilowatt.services.smart_charging import SmartChargingService
from kilowatt.services.station_reports import StationReportService
from kilowatt.services.stations import StationService
from kilowatt.services.tariffs import TariffService
from kilowatt.services.transactions import TransactionService


@dataclass(slots=True, frozen=True)
class Services:
    settings: Settings
    stations: StationService
    authorization: AuthorizationService
    transactions: TransactionService
    data_transfer: DataTransferService
    commands: CommandService
    configuration: ConfigurationService
    local_list: LocalListService
    reservations: ReservationService
    smart_charging: SmartChargingService
    firmware: FirmwareService
    api_keys: ApiKeyService
    audit: AuditService
    # What stations report on their own (OCPP 2.0.1 and later); see docs/ocpp201-station-messages.md.
    reports: StationReportService
    monitoring: MonitoringService
    display_messages: DisplayMessageService
    charging_reports: ChargingReportService
    customer_information: CustomerInformationService
    # the domains OCPP 2.1 brings
    payments: PaymentService
    tariffs: TariffService
    der: DerService
    event_streams: EventStreamService
    battery_swaps: BatterySwapService
    dynamic_charging: DynamicChargingService
