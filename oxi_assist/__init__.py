"""oxi-assist: a pulse oximeter overdose-response assistant (a training and support tool,
not a medical device)."""

__version__ = "0.1.0"
