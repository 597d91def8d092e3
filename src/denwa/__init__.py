"""denwa: an ISP's 050 IP telephone service, end to end."""

__version__ = "0.1.0"
