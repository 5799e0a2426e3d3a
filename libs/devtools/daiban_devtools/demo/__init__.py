"""The demo county: months of past cases written at seed time, and `daiban demo`, a live scenario.

Both talk to the services only as a client would: through their HTTP APIs. The history runs the
services' own apps inside the seeding process (`inprocess`), sets the moment of each step with
`daiban_common.clock`, and carries their events from outbox to consumers itself, so every case
is written by the services that own its data, through the same commands, events and consumers
as in production. Nothing here imports a service.
"""
