"""Time-activity curves: fitters, model selection, time-integrated activity and single-time-point methods."""
