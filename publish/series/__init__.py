"""The whole series: a catalogue of volumes built, checked and recorded, in shares over machines, then indexed.

catalogue.py reads series.yaml; plan.py divides the volumes into shares; volume.py builds, validates and
records one volume; index.py gathers the records into the OPDS feed, the HTML page and SHA256SUMS;
run.py drives them, volume after volume.
"""

# The validators a run may skip (--skip), the slow ones; the page-integrity check always runs (validate.py).
OPTIONAL = ("epubcheck", "pdf-ua-1", "pdf-a-2u")
