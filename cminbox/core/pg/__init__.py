"""The PostgreSQL team store: one database shared by every instance of a team.

connection.py  psycopg 3 (optional extra), the conninfo built from ``[store]``, the password
               (keyring, password_command or libpq's own .pgpass), the pool, error wording
schema.py      versioned migrations (``schema_version`` table, advisory lock)
store.py       messages, triage actions with row locks, undo, the event log, small tables
outbox.py      the outbox, claimed with ``FOR UPDATE SKIP LOCKED``
lease.py       the single-poller lease (a row with holder and expiry, renewed by heartbeat)

Nothing here imports psycopg at module import time except through
:func:`connection.require_psycopg`, so a TinyDB-only install never needs it.
"""
