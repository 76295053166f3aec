"""Telling the CSMS what state the connectors are in.

:class:`StatusReportingMixin` is the part of :class:`~kilowatt.simulator.station.SimulatedStation`
that reports every status that changed since the CSMS last heard. Statuses are derived from the
model (session phase, plugged, fault, availability, reservation) and the last reported value is kept
per connector, so reporting is a comparison rather than a list of events to remember.
"""

from __future__ import annotations


class StatusReportingMixin:
    """Report connector and station status changes (see the module docstring)."""

    async def _sync_statuses(self) -> None:
        """Tell the CSMS about every status that changed since it last heard (nothing when not ready)."""
        if not self.ready:
            return
        model = self.model
        if model.reported_station_status is not model.station_status:
            status = model.station_status
            if await self.adapter.status_notification(0, status, None):
                model.reported_station_status = status
        for connector in model.connectors:
            current = (connector.status, connector.error_code or "NoError")
            if connector.reported != current and self.ready:
                if await self.adapter.status_notification(connector.connector_id, current[0], connector.error_code):
                    connector.reported = current

    def resend_statuses(self, connector_id: int | None = None) -> None:
        """Forget what the CSMS was told so the next step reports again (TriggerMessage)."""
        if connector_id in (None, 0):
            self.model.reported_station_status = None
        for connector in self.model.connectors:
            if connector_id is None or connector.connector_id == connector_id:
                connector.reported = None
        self.wake()

