"""Compressed frame storage for the frame log of :class:`~sb3_atari_ext.buffers.FrameReplayBuffer`.

Each frame is compressed on its own with zstd (level 1) and a 64 KB dictionary trained on the
buffer's own first frames, so that any frame decodes without its neighbours (sampling is random
access). Chosen by measurement on real 84x84 grayscale frames of SpaceInvaders, Breakout and Pong
under random play (per frame; scripts in ``bench/``): zstd level 1 with a 16 KB trained dictionary
~520 / ~125 / ~95 bytes; without a dictionary ~1,010 / ~300 / ~175; LZ4 ~1,460 / ~410 / ~265 (LZ4
decodes ~2x faster, but Space Invaders alone would then exceed 1 KB per transition). A 64 KB
dictionary (SpaceInvaders ~420 bytes) also decoded a batch ~1.4x faster than a 16 KB one. The
dictionary halves what zstd keeps of a frame because most of a frame is the game's fixed
background, which the dictionary holds once for all frames. Sampling pays for it: 32 transitions
decode ~160 frames (``bench/bench_replay_compression.py`` has the figures).

Until ``train_after`` frames are stored, frames are kept raw; the dictionary is then trained on
them, and they are compressed with it. A dictionary that cannot be trained (too few distinct
frames) leaves plain zstd; frames that do not compress below 80% (noise) are kept raw.
"""

from __future__ import annotations

from typing import Any

import numpy as np

#: a store whose first frames compress to more than this fraction of their size keeps frames raw
INCOMPRESSIBLE = 0.8

#: the codecs of ``FrameReplayBuffer(compression=...)``
CODECS = ("zstd",)


def require_zstandard() -> Any:
    """The ``zstandard`` module (a dependency of the package), or an ``ImportError`` in one line."""
    try:
        import zstandard
    except ImportError:
        raise ImportError(
            "compressed replay (compression='zstd') needs the zstandard package, a dependency of sb3-atari-ext "
            "that is missing: pip install zstandard (or compression=None)"
        ) from None
    return zstandard


def zstandard_available() -> bool:
    try:
        require_zstandard()
    except ImportError:
        return False
    return True


class ZstdFrameStore:
    """Frames of a ``(capacity, n_envs)`` ring, each compressed with zstd and a trained dictionary.

    :param capacity: frame slots per env
    :param n_envs: environments
    :param frame_bytes: bytes of one frame
    :param level: zstd level
    :param train_after: frames stored raw before the dictionary is trained on them
    :param dict_size: bytes of the dictionary
    """

    def __init__(
        self, capacity: int, n_envs: int, frame_bytes: int, level: int = 1, train_after: int = 1000, dict_size: int = 65536
    ) -> None:
        require_zstandard()
        self.capacity, self.n_envs, self.frame_bytes = capacity, n_envs, frame_bytes
        self.level, self.train_after, self.dict_size = level, train_after, dict_size
        self.entries = np.full((capacity, n_envs), b"", dtype=object)
        self.dictionary: bytes | None = None
        self.trained = False  # False: entries are raw frames
        self.stored = 0  # frames stored so far (all envs)
        self.compressed_bytes = 0  # payload bytes of the entries
        self._codecs()

    def _codecs(self) -> None:
        zstd = require_zstandard()
        data = zstd.ZstdCompressionDict(self.dictionary) if self.dictionary is not None else None
        if data is not None:
            data.precompute_compress(level=self.level)  # digested once, not at every compress()
        self._compressor = zstd.ZstdCompressor(level=self.level, dict_data=data, write_checksum=False)
        self._decompressor = zstd.ZstdDecompressor(dict_data=data)

    # -- writing --------------------------------------------------------------------------------
    def put(self, slot: int, env: int, frame: np.ndarray) -> None:
        """Store ``frame`` (any array of ``frame_bytes`` bytes) at ``(slot, env)``."""
        raw = frame.tobytes()
        entry = self._compress(raw) if self.trained else raw
        self.compressed_bytes += len(entry) - len(self.entries[slot, env])
        self.entries[slot, env] = entry
        self.stored += 1
        if not self.trained and self.stored >= self.train_after:
            self._train()

    def _train(self) -> None:
        zstd = require_zstandard()
        written = [e for e in self.entries.ravel() if e]
        try:
            self.dictionary = zstd.train_dictionary(self.dict_size, written).as_bytes()
        except zstd.ZstdError:  # too few distinct samples (blank frames): plain zstd
            self.dictionary = None
        self._codecs()
        flat = self.entries.ravel()
        packed = [(i, self._compress(entry)) for i, entry in enumerate(flat) if entry]
        if sum(len(e) for _, e in packed) > INCOMPRESSIBLE * sum(len(flat[i]) for i, _ in packed):
            self.train_after = float("inf")  # noise-like frames: kept raw, never retried
            self.dictionary = None
            return
        self.trained = True
        for i, entry in packed:
            flat[i] = entry
        self.compressed_bytes = sum(len(e) for e in flat)

    def _compress(self, raw: bytes) -> bytes:
        # zstandard returns a bytes object that keeps the allocation of the worst-case size (its
        # length is shrunk in place): a copy of the exact size keeps ~500 bytes instead of ~7 KB
        return bytes(memoryview(self._compressor.compress(raw)))

    # -- reading --------------------------------------------------------------------------------
    def get(self, flat_indices: np.ndarray) -> np.ndarray:
        """The frames at ``flat_indices`` (``slot * n_envs + env``) as ``(n, frame_bytes)`` uint8."""
        entries = self.entries.ravel()[np.asarray(flat_indices).ravel()]
        n = len(entries)
        if n == 0:
            return np.empty((0, self.frame_bytes), dtype=np.uint8)
        if self.trained:
            sizes = np.full(n, self.frame_bytes, dtype=np.uint64).tobytes()
            decoded = self._decompressor.multi_decompress_to_buffer(list(entries), decompressed_sizes=sizes)
            data = b"".join(decoded[i] for i in range(n))
        else:
            data = b"".join(entries)
        return np.frombuffer(bytearray(data), dtype=np.uint8).reshape(n, self.frame_bytes)

    @property
    def nbytes(self) -> int:
        """Bytes held: the entries' payloads, their Python object headers and pointers, the dictionary."""
        header = 33  # sys.getsizeof(b"") on CPython: the bytes object around each payload
        filled = min(self.stored, self.entries.size)
        return self.compressed_bytes + self.entries.size * 8 + filled * header + len(self.dictionary or b"")

    # -- pickling (save_replay_buffer): the entries stay compressed; codecs are rebuilt ------------
    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        state.pop("_compressor", None)
        state.pop("_decompressor", None)
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._codecs()
