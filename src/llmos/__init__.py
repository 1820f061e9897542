"""llmos: from attention to agents."""
__version__ = "0.1.0"
