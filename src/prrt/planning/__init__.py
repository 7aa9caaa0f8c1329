"""Treatment planning: regimens, schedules, course state and radiation protection."""
