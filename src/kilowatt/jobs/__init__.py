"""Background work of a deployment: periodic jobs under leases, and the outbox of durable events.

A periodic job (reservation expiry, the outbox relay) must run in exactly one process at a time,
whatever the number of processes: each job has a lease in the database (:mod:`.leases`), and a
:class:`~kilowatt.jobs.runner.JobRunner` runs a job only while its process holds the lease. Role
``all`` and role ``worker`` run the jobs; ``gateway`` and ``api`` do not.
"""

from kilowatt.jobs.leases import LeaseStore
from kilowatt.jobs.outbox import Outbox
from kilowatt.jobs.runner import Job, JobRunner

__all__ = ["Job", "JobRunner", "LeaseStore", "Outbox"]
