"""The Kafka side of the scrubber: exactly-once routing, hosting, logging and the CLI."""
