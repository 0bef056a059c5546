"""Administrative units, producers (chủ thể OCOP), products, listings, raw-material areas."""
