"""What each ``kilowatt serve --role`` runs, and the deployments a role refuses to start in.

======== ================= ========= ===================================================
role     station sockets   HTTP API  periodic jobs (reservation expiry, outbox relay)
======== ================= ========= ===================================================
all      yes               yes       yes (under leases: safe with several ``all`` nodes)
gateway  yes               no        no
api      no                yes       no
worker   no                no        yes (under leases: run as many workers as you like)
======== ================= ========= ===================================================

A split role (``gateway``, ``api``, ``worker``) only makes sense next to the other roles, in other
processes. Two deployments would start and then quietly misbehave, so they are refused at start:

- on SQLite: one file, one writer at a time, on one machine — several processes only meet at its
  lock. Split roles need PostgreSQL.
- without ``KILOWATT_REDIS_URL``: the bus would be in-process, so an API process could not reach a
  station held by a gateway process, and no process would hear the others' events.
"""

from __future__ import annotations

from kilowatt.config import Role, Settings
from kilowatt.storage.database import is_sqlite


class RoleRefused(Exception):
    """This role cannot run with these settings; the message names the setting to change."""


def serves_stations(role: Role) -> bool:
    return role in (Role.all, Role.gateway)


def serves_api(role: Role) -> bool:
    return role in (Role.all, Role.api)


def runs_jobs(role: Role) -> bool:
    return role in (Role.all, Role.worker)


def check_role(settings: Settings, role: Role) -> None:
    """Raise :class:`RoleRefused` if ``role`` cannot work with ``settings``; role ``all`` always can."""
    if role is Role.all:
        return
    if is_sqlite(settings.database_url):
        raise RoleRefused(
            f"--role {role.value} runs beside other processes, and SQLite with several processes is refused "
            "(one writer at a time, on one machine): set KILOWATT_DATABASE_URL to PostgreSQL "
            "(postgresql+asyncpg://...), or run --role all"
        )
    if not settings.redis_url:
        raise RoleRefused(
            f"--role {role.value} without KILOWATT_REDIS_URL: the bus would be in-process, and this process "
            "would not see the other processes (their stations, commands and events); set KILOWATT_REDIS_URL, "
            "or run --role all"
        )
