"""Canonical types: frozen values, stdlib only, no I/O."""
