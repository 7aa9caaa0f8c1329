"""Clinical decision support: grading, imaging scores, eligibility, CTCAE, eGFR, dose modification, response."""
