"""Write side: command handlers and event handlers; each commits its own unit of work."""
