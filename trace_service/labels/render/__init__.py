"""Print-ready output for labels: QR images (PNG, SVG) and A4 sticker sheets (PDF).

Renderers take plain ``StampFacts`` and ``LabelArt`` values (``labels/art.py``) and read their
geometry from ``label_templates/``, so layout changes need no code change.
"""
