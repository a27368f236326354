"""Repatriation of people to their countries of origin: cases as a state machine, and their documents."""
