"""Training: datasets, losses, augmentation and the loops that train the bundled models."""

from .loop import TrainConfig, TrainingStopped, TrainProgress, train, train_steps

__all__ = ["TrainConfig", "TrainProgress", "TrainingStopped", "train", "train_steps"]
