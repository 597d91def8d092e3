"""The Django side of denwa: settings, URLs and the setup the CLI and servers share."""
