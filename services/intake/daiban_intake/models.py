"""Tables owned by the intake service (schema `intake`)."""

from sqlmodel import SQLModel

from daiban_common.messaging import messaging_tables

SCHEMA = "intake"
metadata = SQLModel.metadata
messaging = messaging_tables(SCHEMA)
