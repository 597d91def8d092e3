"""The ``denwa`` command: thin entry points over the core's services."""
