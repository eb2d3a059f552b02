"""Perception robustness: corruptions, robustness scans, robust training, abstention.

Data: :mod:`~assay.perception.synthetic` (primitive shapes seen by a simulated multi-beam
LiDAR), :mod:`~assay.perception.scene` (360-degree street scans),
:mod:`~assay.perception.readers` (ModelNet40, KITTI, images), :mod:`~assay.perception.data`
(labelled sets and their sources).

Corruptions, one per-frame function each, seeded by an explicit generator:
:mod:`~assay.perception.objects` (ModelNet40-C), :mod:`~assay.perception.lidar` and
:mod:`~assay.perception.weather` (Robo3D), :mod:`~assay.perception.camera` (ImageNet-C),
:mod:`~assay.perception.fusion` (LiDAR-camera misalignment).

Engine parts: :mod:`~assay.perception.cases` (samples as cases, replay of an attempt's
input), :mod:`~assay.perception.attacks` (corruption and white-box attack plugins),
:mod:`~assay.perception.target` (a torch classifier as target),
:mod:`~assay.perception.judge` (label match), :mod:`~assay.perception.evaluate`,
:mod:`~assay.perception.robustness` and :mod:`~assay.perception.report` (accuracy, mCE,
mRR, the report), :mod:`~assay.perception.abstain` (conformal sets, abstention, ECE, OOD).

Models: :mod:`~assay.perception.model` (PointNet), :mod:`~assay.perception.train`
(plain, corruption-augmented and saliency-curriculum training),
:mod:`~assay.perception.saliency`, :mod:`~assay.perception.adversarial` (FGSM, PGD,
saliency point drop). See docs/perception.md.
"""
