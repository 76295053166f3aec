"""The bus: domain events to listeners, and CSMS->station calls routed to the node holding the socket.

One interface (:class:`~kilowatt.bus.base.Bus`); the in-process implementation serves one node, and
a Redis one (several nodes) is planned. Callers never know which node holds a station's WebSocket.
"""

from kilowatt.bus.base import Bus, CommandExecutor, Event
from kilowatt.bus.memory import InProcessBus

__all__ = ["Bus", "CommandExecutor", "Event", "InProcessBus"]
