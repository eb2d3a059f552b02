"""The run-time guard: calibrated allow / block / abstain in front of a deployed model.

* :mod:`~assay.guard.types`: requests, decisions, feedback, the ``GuardLike`` contract.
* :mod:`~assay.guard.policy`: which hazards, thresholds, judges, failure mode, configs.
* :mod:`~assay.guard.conformal` and :mod:`~assay.guard.calibrate`: conformal calibration.
* :mod:`~assay.guard.guard`: the in-process guard.
* :mod:`~assay.guard.service`: the HTTP service (FastAPI), its audit log and the proxy.
"""
