"""OCOP star labels: print runs, serials, signed payloads, QR codes and print-ready files."""
