"""Why a compressed batch cannot be sampled in 2x the uncompressed time: decode bandwidth.

On real frames of SpaceInvaders, Breakout and Pong (random play through SB3's Atari pipeline),
per codec with a dictionary trained on the first 1,000 frames (64 KB, as the buffer does): bytes
per frame, microseconds to compress one frame, and microseconds to decode the 160 frames a
prioritized batch of 32 four-frame transitions needs (random frames, one call per batch for zstd's
``multi_decompress_to_buffer``, a Python loop for LZ4, which has no batch call). Beside it, the
uncompressed ``PrioritizedReplayBuffer``'s whole ``sample(32)`` + ``update_priorities`` on the same
frames: the replay issue's target is that the compressed buffer's sample + update stays within
2x of it, so decoding alone has to fit in about that much time.

    python bench/bench_frame_codecs.py [--frames 3000]

LZ4 needs the ``lz4`` package (not a dependency of the project; skipped without it).
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np
import torch as th
from bench_replay_compression import GAMES, make, play, timed_samples

BATCH_FRAMES = 32 * 5  # 32 transitions x (4 stacked frames + the next one)


def zstd_figures(frames: list[bytes], train: list[bytes]) -> tuple[float, float, float]:
    import zstandard as zstd

    data = zstd.ZstdCompressionDict(zstd.train_dictionary(65536, train).as_bytes())
    data.precompute_compress(level=1)
    compressor = zstd.ZstdCompressor(level=1, dict_data=data, write_checksum=False)
    decompressor = zstd.ZstdDecompressor(dict_data=data)
    start = time.perf_counter()
    packed = [bytes(memoryview(compressor.compress(f))) for f in frames]
    compress_us = (time.perf_counter() - start) / len(frames) * 1e6
    sizes = np.full(BATCH_FRAMES, len(frames[0]), dtype=np.uint64).tobytes()

    def decode(batch: list[bytes]) -> None:
        decoded = decompressor.multi_decompress_to_buffer(batch, decompressed_sizes=sizes)
        b"".join(decoded[i] for i in range(len(batch)))

    return float(np.mean([len(p) for p in packed])), compress_us, _decode_us(packed, decode)


def lz4_figures(frames: list[bytes], train: list[bytes]) -> tuple[float, float, float] | None:
    try:
        import lz4.block as lz4
    except ImportError:
        return None
    dictionary = b"".join(train[:: max(len(train) // 10, 1)])[-65536:]  # LZ4's dictionary is a prefix
    size = len(frames[0])
    start = time.perf_counter()
    packed = [lz4.compress(f, mode="fast", dict=dictionary, store_size=False) for f in frames]
    compress_us = (time.perf_counter() - start) / len(frames) * 1e6

    def decode(batch: list[bytes]) -> None:
        b"".join([lz4.decompress(p, uncompressed_size=size, dict=dictionary) for p in batch])

    return float(np.mean([len(p) for p in packed])), compress_us, _decode_us(packed, decode)


def _decode_us(packed: list[bytes], decode) -> float:
    rng = np.random.default_rng(0)
    rounds = []
    for _ in range(5):
        batches = [[packed[i] for i in rng.integers(0, len(packed), BATCH_FRAMES)] for _ in range(50)]
        start = time.perf_counter()
        for batch in batches:
            decode(batch)
        rounds.append((time.perf_counter() - start) / len(batches) * 1e6)
    return statistics.median(rounds)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=3000, help="frames of random play per game")
    args = parser.parse_args()
    th.set_num_threads(1)
    print("| game | codec | bytes / frame | compress / frame | decode 160 frames | uncompressed sample(32) + update |")
    print("|---|---|---|---|---|---|")
    for game in GAMES:
        stream = play(game, args.frames)
        frames = [t[0][0, -1].tobytes() for t in stream]  # the newest frame of each stack
        train, rest = frames[:1000], frames[1000:]
        from gymnasium import spaces

        space = spaces.Box(0, 255, shape=stream[0][0].shape[1:], dtype=np.uint8)
        plain = make(space, spaces.Discrete(18), len(stream), None)
        for transition in stream:
            plain.add(*transition)
        reference = statistics.median(timed_samples(plain, 100) for _ in range(5)) * 1e6
        rows = [("zstd level 1, 64 KB dictionary", zstd_figures(rest, train)),
                ("LZ4 fast, 64 KB dictionary", lz4_figures(rest, train))]  # fmt: skip
        for codec, figures in rows:
            if figures is None:
                continue
            size, compress_us, decode_us = figures
            name = game.replace("NoFrameskip-v4", "")
            print(f"| {name} | {codec} | {size:,.0f} | {compress_us:.1f} us | {decode_us:.0f} us | {reference:.0f} us |",
                  flush=True)  # fmt: skip


if __name__ == "__main__":
    main()
