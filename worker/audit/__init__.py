"""The audit log: its hash chain, the chain heads' store, reading and exporting it, replay
and the ``oncoscrub audit`` commands."""
