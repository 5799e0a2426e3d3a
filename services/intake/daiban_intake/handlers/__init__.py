"""The service layer: commands from HTTP and events from the bus, each one unit of work that commits."""
