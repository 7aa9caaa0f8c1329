"""Radionuclide physics: nuclides, decay, emissions and radiopharmaceuticals (ICRP-107 via radioactivedecay)."""
