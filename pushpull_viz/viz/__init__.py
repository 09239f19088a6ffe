"""Visual analysis: figures from tidy result tables and from models.

Functions return a matplotlib ``Figure`` and never train anything.
"""

from .plots import plot_accuracy_vs_level, plot_corruption_examples, plot_training_curves

__all__ = ["plot_accuracy_vs_level", "plot_corruption_examples", "plot_training_curves"]
