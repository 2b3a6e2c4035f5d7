"""inlet-sim: a fleet simulator for sizing and testing an inletd deployment (docs/OPERATIONS.md)."""
