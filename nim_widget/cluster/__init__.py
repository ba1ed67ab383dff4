"""Talking to the cluster: connection, verbs and errors, and read-only discovery."""
