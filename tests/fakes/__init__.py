"""Test doubles that stand in for external services (see ``tests/fakes/alpaca``)."""
