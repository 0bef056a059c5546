"""Inspectors' verification: the signed offline snapshot served to devices, and the
installable offline page at ``/kiem-tra-vien`` that checks stamps with no network."""
