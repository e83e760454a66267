"""Webhooks: what the worker delivers and what the management API registers.

Pure pieces (payloads, signing, retry timing) import nothing with I/O; `ssrf` resolves
names and `registry` talks to Postgres.
"""
