"""Gift card providers behind one interface (see base.py)."""
