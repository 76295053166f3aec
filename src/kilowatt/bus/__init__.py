"""The bus: domain events to listeners, and CSMS->station calls routed to the node holding the socket.

One interface (:class:`~kilowatt.bus.base.Bus`), two implementations: in-process (default, one node)
and Redis (several nodes). Callers never know which node holds a station's WebSocket.
"""

from kilowatt.bus.base import Bus, CommandExecutor, Event
from kilowatt.bus.memory import InProcessBus

__all__ = ["Bus", "CommandExecutor", "Event", "InProcessBus"]
