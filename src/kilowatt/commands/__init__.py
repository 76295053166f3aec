"""CSMS->station commands as typed, version-neutral objects, and the envelope that carries them.

``model`` holds one dataclass per operation and its result; ``envelope`` what the bus carries to
the node holding the station's socket and back. Each ``kilowatt.ocpp.<version>.codec`` encodes
these commands for its version and decodes the answers; nothing outside ``ocpp/`` sees a payload
except as the raw copy a result keeps alongside.
"""

from kilowatt.commands.envelope import CommandEnvelope, CommandError, CommandErrorKind, CommandOutcome, fields_of
from kilowatt.commands.model import COMMAND_TYPES, RESULT_TYPES, Command, Result

__all__ = [
    "COMMAND_TYPES",
    "RESULT_TYPES",
    "Command",
    "CommandEnvelope",
    "CommandError",
    "CommandErrorKind",
    "CommandOutcome",
    "Result",
    "fields_of",
]
