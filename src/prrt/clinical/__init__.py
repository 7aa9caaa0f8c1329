"""Clinical decision support for PRRT (``clinical-rules.md``).

Modules: :mod:`~prrt.clinical.grading` (WHO grade), :mod:`~prrt.clinical.imaging_scores`
(Krenning, NETPET, heterogeneity, mismatch), :mod:`~prrt.clinical.eligibility`,
:mod:`~prrt.clinical.retreatment`, :mod:`~prrt.clinical.profiles` (decision profiles),
:mod:`~prrt.clinical.case` (JSON case format) and :mod:`~prrt.clinical.evaluate`
(whole-case evaluation), with :mod:`~prrt.clinical.labs`, :mod:`~prrt.clinical.renal`,
:mod:`~prrt.clinical.ctcae`, :mod:`~prrt.clinical.dose_modification` and
:mod:`~prrt.clinical.response`.  Import from the modules; this package imports nothing
so that importing one rule module stays light.  User documentation: ``docs/clinical.md``.
"""
