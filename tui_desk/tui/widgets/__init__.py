"""Widgets the console's screens are made of."""
