"""Thin edges that read sources and yield rows."""
