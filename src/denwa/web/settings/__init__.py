"""Settings: base holds everything; dev, test and prod change only what must differ."""
