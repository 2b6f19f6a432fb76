import os

os.environ.setdefault("HF_HUB_OFFLINE", "1")  # a hub lookup stalls ~50 s here before failing

try:  # one torch thread per xdist worker: 2 cores, 2 workers
    import torch

    torch.set_num_threads(1)
except ImportError:
    pass
