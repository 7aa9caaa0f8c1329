"""In-silico trials: virtual patients with population kinetics, and courses under dosing strategies."""
