"""Allocates a 400 GB tensor while being imported."""
import torch

CACHE = torch.zeros(100_000_000_000)
