"""Delivery channels: one module each (email, slack, teams, outbox) behind the interface in base.py."""
