"""Versions of the operator data files (ranges, tariffs, fees…) as they were loaded."""
