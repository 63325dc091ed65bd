"""How the pages' sockets reconnect after a drop (a server restart, a failover).

The pages' own socket (``tf.Socket`` in assets/tf-common.js) waits as socket.io-client would with
these settings; the reconnect-storm benchmark's clients use the same ones.
"""

from __future__ import annotations

# Backoff: 1 s, doubling up to 10 s, each delay jittered by ±50 % so a
# hall of screens does not reconnect in step. Measured with 1,000 trackers and a restart
# (bench/reconnect_storm.py): all back 6.5 s after the new worker listened; ±100 % jitter did
# not spread them more (36 % in the busiest second either way). The server's join pace does
# (web/push/join_pace.py, --join-rate).
RECONNECT = {"reconnectionDelay": 1000, "reconnectionDelayMax": 10_000, "randomizationFactor": 0.5}
