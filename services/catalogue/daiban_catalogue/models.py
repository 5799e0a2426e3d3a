"""Tables owned by the catalogue service (schema `catalogue`)."""

from sqlmodel import SQLModel

from daiban_common.messaging import messaging_tables

SCHEMA = "catalogue"
metadata = SQLModel.metadata
messaging = messaging_tables(SCHEMA)
