"""depaudit: find the npm dependencies most likely to leak memory or hold resources."""

__version__ = "0.1.0"
