"""Tables owned by the routing service (schema `routing`)."""

from sqlmodel import SQLModel

from daiban_common.messaging import messaging_tables

SCHEMA = "routing"
metadata = SQLModel.metadata
messaging = messaging_tables(SCHEMA)
