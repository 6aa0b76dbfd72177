"""The layout-aware word classifier: build, encode, train, evaluate, predict, export.

Importing the package keeps Hugging Face tokenizers single-threaded: their thread pool fights
PyTorch's on a small CPU (an epoch took 86 s instead of 15 s on 2 cores).
"""

import os

os.environ["TOKENIZERS_PARALLELISM"] = "false"
os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
os.environ.setdefault("HF_HUB_OFFLINE", "1")  # weights come from folders on disk, never a hub
