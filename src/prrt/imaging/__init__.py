"""Images as volumes with geometry and meaning; quantification, resampling, registration and synthetic phantoms."""
