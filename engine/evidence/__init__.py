"""Evidence (证据): received as a stream, hashed while it arrives, its type read from its bytes, stored
content-addressed and never changed. `service` is what the API calls; `storage` where the bytes live;
`spool` how a stream becomes a checked file on disk without ever being held in memory.
"""
