"""Tables owned by the audit service (schema `audit`)."""

from sqlmodel import SQLModel

from daiban_common.messaging import messaging_tables

SCHEMA = "audit"
metadata = SQLModel.metadata
messaging = messaging_tables(SCHEMA)
