"""Write side: command handlers and event handlers; each commits its own unit of work."""

# The actor of what routing does on its own (assignments, the sweep, the published org units).
SYSTEM_ACTOR = "system:routing"
