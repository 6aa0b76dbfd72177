"""Labels: Ground Truth manifests, sampling, box → word labels, adapters (FUNSD, known values)."""
