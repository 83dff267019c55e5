"""The caseflow command line."""

from sim.cli.app import app

__all__ = ["app"]
