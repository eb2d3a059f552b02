"""Attacks: turn a case into variants (jailbreak templates, encodings, S-Eval's ten,
ASTRAL style x persuasion, personas, mitigations, long context, injection, multi-turn).

Every built-in attack is a :class:`~assay.attacks.base.VariantAttack`: a family of named
variants. See docs/attacks.md.
"""
