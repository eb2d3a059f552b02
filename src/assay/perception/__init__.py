"""Perception robustness (issue 6, in progress): synthetic LiDAR data and corruptions.

* :mod:`~assay.perception.synthetic`: primitive shapes scanned by a simulated multi-beam
  LiDAR (beam and azimuth index per point), deterministic from a seed.
* :mod:`~assay.perception.objects`: ModelNet40-C-style object point-cloud corruptions.
"""
