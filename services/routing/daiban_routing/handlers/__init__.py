"""Write side: command handlers and event handlers; each commits its own unit of work."""

# The actor of what routing does on its own (assignments, the sweep, the published org units).
SYSTEM_ACTOR = "system:routing"
# Identities of the suite's own services, not people: the directory does not list them.
SYSTEM_PREFIX = "system:"
