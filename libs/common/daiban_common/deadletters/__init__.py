"""Dead letters in plain sight: find, read, replay and discard what a consumer parked.

Every service keeps the events its consumers could not apply in its own `dead_letters` table
(daiban_common.messaging, written by daiban_common.consumer), with the reason. This package is
what a supervisor or an administrator needs to deal with them without SQL, on every service alike:

- `rules`: plain functions (statuses, who may see which dead letter, a corrected event, a reason);
- `store`: the SQL of the table;
- `commands`: replay and discard, each in one unit of work with its audit event;
- `api`: `/v1/dead-letters`, mounted by every service (daiban_common.app);
- `logline`: the JSON log line written for every dead letter;
- `cli`: `daiban dead-letters list|show|replay|discard`, through the API.
"""
