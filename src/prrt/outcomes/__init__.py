"""Outcomes and evidence: cohort survival, response rates, meta-analysis, IPD reconstruction, evidence base, trial matching."""
