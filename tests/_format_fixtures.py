"""What the tests of image files share: five small grey images and their labels."""

import numpy as np

RNG = np.random.default_rng(0)
IMAGES = RNG.integers(0, 256, size=(5, 4, 3), dtype=np.uint8)  # 5 images of 4x3
LABELS = np.array([3, 1, 4, 1, 5], dtype=np.uint8)
