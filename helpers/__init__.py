"""Shared helpers for the course "How AI models are trained".

Every chapter imports this package. Each module is meant to be read top to
bottom in one sitting. The map:

Shared: used by several chapters (see ``book/contributing.md`` for the rule)

- ``helpers.device``      where tensors live (CUDA, then MPS, then CPU), seeding, GPU-only speed-ups
- ``helpers.data``        offline data sets and reproducible splits; generated data and distribution shifts
- ``helpers.models``      small PyTorch models (MLP, 1-D CNN, GRU) and ``count_parameters``
- ``helpers.train``       ``fit``: the training loop, its ``History`` and callbacks; ``evaluate``, ``predict``
- ``helpers.checkpoint``  save a run to disk and resume it exactly
- ``helpers.plots``       the course style; learning curves, decision boundaries, confusion matrices
- ``helpers.publish``     ``glue``: publish a number from the run into the book's prose
- ``helpers.checks``      input checks every helper uses, so bad input gets a clear error
- ``helpers.exercises``   ``check()`` / ``hint()`` / ``solution()`` for the exercises, one module a chapter
- ``helpers.student``     write the student version and the answer key of the notebooks

Chapter toolkits: what one chapter teaches or measures, named after its topic

- ``helpers.preprocessing``   ch02: missing values report, label noise, learning curve with noisy labels, selection leakage
- ``helpers.compare``         ch03: ``TorchClassifier``, the model comparison table, comparison by training size
- ``helpers.losses``          ch04: loss functions from scratch, class weights
- ``helpers.optim``           ch05: optimizers from scratch, 2-D loss surfaces, trajectories, learning-rate schedules
- ``helpers.regularization``  ch06: weight penalties, weight report, the overfitting table
- ``helpers.tuning``          ch07: learning-rate and batch-size sweeps, memory, Optuna studies
- ``helpers.metrics``         ch08: metrics by name, bootstrap intervals, cross-validation table, calibration
- ``helpers.augment``         ch09: batched per-image augmentation (affine, noise, erasing, MixUp/CutMix), a small CNN,
                              test-time augmentation, the per-sample torchvision Dataset, Fashion-MNIST/CIFAR-10 loaders
- ``helpers.transfer``        ch10: source and target tasks, k labels per class, backbone + head, linear probe,
                              fine-tuning with parameter groups, linear CKA, ResNet-18 head replacement
- ``helpers.continual``       ch11: task/domain/class-incremental Split digits; naive, EWC, LwF, replay, joint;
                              the accuracy matrix, forgetting, backward transfer
- ``helpers.online``          ch11: drifting streams, prequential evaluation, retraining with river's drift
                              detectors, monitoring alarms, active learning, label-error review
- ``helpers.scaling``         ch12: time to a target accuracy, power-law fits, parameter and FLOP counts, step profiles
- ``helpers.distributed``     ch12: the DDP training script for ``torchrun`` (gloo/nccl) and the all_reduce demo
- ``helpers.parallel_search`` ch12: Optuna workers sharing one study through a journal file

``from helpers import glue, setup`` gives the two functions every chapter calls.
"""

from helpers.device import choose_device, seed_everything, setup
from helpers.publish import glue

__version__ = "0.1.0"

__all__ = ["choose_device", "seed_everything", "setup", "glue", "__version__"]
