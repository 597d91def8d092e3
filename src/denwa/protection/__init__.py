"""Protection on the web side: alerts, the maintenance switch, held and long calls,
international spend per day, the protection snapshot, and SIP blocks through Kamailio's RPC."""
