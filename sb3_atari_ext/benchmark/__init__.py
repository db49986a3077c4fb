"""``sb3-atari benchmark``: a grid of RL Zoo trainings, resumable, aggregated with IQM and stratified-bootstrap CIs."""

from sb3_atari_ext.benchmark.grid import Grid, GridError, Variant, build_grid, check_grid
from sb3_atari_ext.benchmark.runner import BenchmarkRunner

__all__ = ["BenchmarkRunner", "Grid", "GridError", "Variant", "build_grid", "check_grid"]
