"""Support: inquiries and replies; records of personal data given to third parties."""
