"""daiban's wire contracts: what a system outside the suite installs to publish and read our events.

- `envelope`: the CloudEvents envelope, the registry of payload types, `make_envelope`.
- `subjects`: the NATS subject an envelope goes to, and the filters that read a subtree.
- `case`, `routing`, `catalogue`, `directory`, `calendar`, `audit`: the payloads, one class per event type.
- `orgcodes`: the 12-digit administrative division codes every event is addressed by.

Pydantic is the only dependency: nothing here talks to a database, a broker or the web.
"""
