"""Perception robustness (issue 6, in progress): synthetic LiDAR data and corruptions.

* :mod:`~assay.perception.synthetic`: primitive shapes scanned by a simulated multi-beam
  LiDAR (beam and azimuth index per point), deterministic from a seed.
* :mod:`~assay.perception.objects`: ModelNet40-C-style object point-cloud corruptions.
* :mod:`~assay.perception.lidar`: Robo3D-style LiDAR scene corruptions (the five that need
  no physical model yet: beam missing, crosstalk, incomplete echo, motion blur,
  cross-sensor); ring ids from a column or from elevation binning.

See docs/perception.md for what exists and what is still to build.
"""
