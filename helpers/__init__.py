"""Shared helpers for the course "How AI models are trained".

Every chapter imports this package. Each module is meant to be read top to
bottom in one sitting:

- ``helpers.device``     where tensors live (CUDA, then MPS, then CPU) and seeding
- ``helpers.data``       offline data sets, reproducible train/validation/test splits
- ``helpers.train``      ``fit``: the training loop, its ``History`` and callbacks
- ``helpers.plots``      learning curves, decision boundaries, confusion matrices
- ``helpers.exercises``  ``check()`` / ``hint()`` / ``solution()`` for the exercises
- ``helpers.glue``       publish a number from the run into the book's prose
"""

from helpers.device import choose_device, seed_everything, setup
from helpers.glue import glue

__version__ = "0.1.0"

__all__ = ["choose_device", "seed_everything", "setup", "glue", "__version__"]
