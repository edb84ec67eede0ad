"""Calibrated slips: the reference class of plan snapshots, the slip model fitted on it, and
its back-test. Submodules are imported on use, so ``sim.distributions`` can import the slip
value object without loading the fitter."""
