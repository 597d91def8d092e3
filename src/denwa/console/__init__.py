"""The operator's console: the Django admin made fit for ISP staff."""
