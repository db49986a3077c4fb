#!/usr/bin/env bash
# Wheels for a lent device machine (Python 3.12, Linux x86_64, torch already installed, no registry
# access), downloaded here into two git-ignored folders that each fit the 64 MiB a device call
# carries: wheels-1 holds numba and llvmlite (~64 MB), wheels-2 everything else that
# bench/gpu/bench_gpu.py imports (numpy too, in case torch came without it), and this package built
# as a wheel (~40 MB). No OpenCV: the GPU
# benchmark steps Atari on ale-py's own vector env. Usage: bash bench/gpu/prepare.sh
set -euo pipefail
cd "$(dirname "$0")"
rm -rf wheels-1 wheels-2
get() {
    local dest="$1"
    shift
    python -m pip download -q --dest "$dest" --no-deps --only-binary=:all: --python-version 3.12 \
        --platform manylinux2014_x86_64 --platform manylinux_2_17_x86_64 --platform manylinux_2_27_x86_64 \
        --platform manylinux_2_28_x86_64 "$@"
}
get wheels-1 "numba==0.68.1" "llvmlite==0.50.0"
get wheels-2 "stable-baselines3==2.9.2" "sb3-contrib==2.9.2" "gymnasium==1.4.0" farama-notifications "ale-py==0.12.1" \
    numpy zstandard pluggy cloudpickle pandas python-dateutil pytz tzdata six pyyaml psutil tqdm
python -m pip wheel -q --no-deps --wheel-dir wheels-2 ../..
du -sh wheels-1 wheels-2
