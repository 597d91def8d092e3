"""Protection against prohibited use, toll fraud, password guessing and overload (SPEC §2, §7).

The rules as data and the decisions they produce, with no I/O:

- ``rules``: the operator's policy (``protection.csv``) and a node's capacity limits;
- ``refusals``: what a refused call is answered (403 with a reason, or 503 with
  Retry-After) and told in Japanese (``protection_refusals.csv``);
- ``window``: sliding-window counting over per-bucket counts;
- ``spend``: the daily international spending cap and a call's reservation;
- ``anomaly``: international minutes far above a subscriber's own history;
- ``hold``: whether a re-INVITE's SDP puts the call on hold;
- ``guards``: the call path's decisions from its counters (at the threshold, not before);
- ``blocks``: what a block (of a line or a source address) looks like in shared memory;
- ``events``: the records the SIP side writes for the console (the event spool);
- ``state``: the protection snapshot (maintenance switch, caps and today's spend);
- ``policy``: all of it loaded together.
"""
