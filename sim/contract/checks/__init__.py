"""The cross-checks of a scenario's blocks, one module per group of blocks; the driver that runs
them in order is `sim.contract.crosscheck.cross_check`."""
