"""Safe file IO: atomic writes, canonical JSON, checksums and JSON reading with locations.

Every file that taskdiff writes for later reading (run configs, metrics, ``DONE`` markers,
tables) goes through :func:`atomic_open` or one of the ``atomic_write_*`` helpers: the data
are written to a temporary file in the *same* directory, flushed and ``fsync``-ed, and then
moved over the target with :func:`os.replace`, which is atomic on POSIX and Windows. A
reader therefore sees either the old content or the new content, never a mixture, even if
the writing process is killed (``SIGKILL``, OOM killer, power loss after the directory
``fsync``). A killed writer can leave a stray temporary file named ``.<name>.<random>.tmp``
next to the target; :func:`is_temp_file` recognises such files so that they can be cleaned.
:func:`atomic_dir` does the same for a whole directory (e.g. a saved model).
"""

from __future__ import annotations

import contextlib
import csv
import hashlib
import io
import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import IO, Any, Iterable, Iterator, Mapping, Sequence

from taskdiff.errors import DataError

__all__ = [
    "TMP_SUFFIX",
    "atomic_dir",
    "atomic_open",
    "atomic_write_bytes",
    "atomic_write_text",
    "atomic_write_json",
    "atomic_write_csv",
    "dumps_json",
    "format_conllu",
    "is_temp_file",
    "read_json",
    "remove_temp_files",
    "sha256_file",
]

TMP_SUFFIX = ".tmp"
_CHUNK = 1 << 20


def _current_umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


# Read once: os.umask can only be queried by setting it, which is not thread-safe.
_FILE_MODE = 0o666 & ~_current_umask()


def is_temp_file(path: str | Path) -> bool:
    """Whether ``path`` looks like a temporary file left by an interrupted atomic write."""
    name = Path(path).name
    return name.startswith(".") and name.endswith(TMP_SUFFIX)


def remove_temp_files(directory: str | Path) -> int:
    """Delete the leftovers of interrupted atomic writes under ``directory``; return how many.

    Only call this while no atomic write into ``directory`` can be in progress (e.g. under
    the run's lock): a live writer's temporary file looks the same as a dead one's.
    """
    removed = 0
    for stray in sorted(p for p in Path(directory).rglob("*") if is_temp_file(p)):
        if stray.is_dir():
            shutil.rmtree(stray, ignore_errors=True)
        elif stray.exists():
            stray.unlink(missing_ok=True)
        else:
            continue
        removed += 1
    return removed


def _fsync_dir(directory: Path) -> None:
    """Make a rename in ``directory`` durable (best effort; not supported everywhere)."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


@contextlib.contextmanager
def atomic_open(path: str | Path, mode: str = "wb", encoding: str | None = None,
                newline: str | None = None) -> Iterator[IO]:
    """Open a temporary file that replaces ``path`` when the ``with`` block ends normally.

    Parameters
    ----------
    path : str or Path
        The target. Its parent directory is created if missing.
    mode : {"wb", "w"}
        Binary or text mode.
    encoding, newline : str, optional
        As for :func:`open` in text mode (``encoding`` defaults to UTF-8).

    Yields
    ------
    file object
        Write to it; do not close it. If the block raises, the temporary file is removed,
        the target keeps its old content (or stays absent) and the exception propagates.
    """
    if mode not in ("wb", "w"):
        raise ValueError(f"atomic_open: mode must be 'wb' or 'w', found {mode!r}")
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=TMP_SUFFIX)
    try:
        text = mode == "w"
        with os.fdopen(fd, mode, encoding=(encoding or "utf-8") if text else None,
                       newline=newline if text else None) as fh:
            yield fh
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, _FILE_MODE)
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    _fsync_dir(target.parent)


@contextlib.contextmanager
def atomic_dir(path: str | Path, *, replace: bool = False) -> Iterator[Path]:
    """Build a directory in a temporary sibling and move it to ``path`` when the block ends.

    Concurrent builders of the same directory take turns, under a file lock
    ``.<name>.lock`` beside it (left in place).

    Parameters
    ----------
    path : str or Path
        The directory to create.
    replace : bool
        If ``path`` already exists when the block ends (e.g. another process built it
        meanwhile): False keeps the existing directory and discards the new one; True
        swaps the new one in (the old one is moved aside, then deleted).

    Yields
    ------
    Path
        The temporary directory to fill. Its files are ``fsync``-ed before the move. If the
        block raises, it is deleted and ``path`` is left as it was.
    """
    from filelock import FileLock

    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    with FileLock(target.parent / f".{target.name}.lock"):
        tmp = Path(tempfile.mkdtemp(dir=target.parent, prefix=f".{target.name}.", suffix=TMP_SUFFIX))
        try:
            yield tmp
            for file in (p for p in tmp.rglob("*") if p.is_file() and not p.is_symlink()):
                with open(file, "rb") as fh:
                    os.fsync(fh.fileno())
            _move_dir_into_place(tmp, target, replace)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
    _fsync_dir(target.parent)


def _move_dir_into_place(tmp: Path, target: Path, replace: bool) -> None:
    if replace and target.exists():
        old = Path(tempfile.mkdtemp(dir=target.parent, prefix=f".{target.name}.old.", suffix=TMP_SUFFIX))
        os.replace(target, old / target.name)
        os.replace(tmp, target)
        shutil.rmtree(old, ignore_errors=True)
        return
    try:
        os.rename(tmp, target)  # fails if target is a non-empty directory
    except OSError:
        if not target.is_dir():
            raise


def atomic_write_bytes(path: str | Path, data: bytes) -> Path:
    """Write ``data`` to ``path`` atomically (see the module docstring); return the path."""
    with atomic_open(path, "wb") as fh:
        fh.write(data)
    return Path(path)


def atomic_write_text(path: str | Path, text: str, encoding: str = "utf-8") -> Path:
    """Write ``text`` to ``path`` atomically, encoded with ``encoding``; return the path."""
    return atomic_write_bytes(path, text.encode(encoding))


def _json_default(obj: Any) -> Any:
    """Convert numpy scalars/arrays, paths and sets, which :mod:`json` refuses."""
    if isinstance(obj, os.PathLike):
        return os.fspath(obj)
    if isinstance(obj, (set, frozenset)):
        return sorted(obj, key=repr)
    if hasattr(obj, "tolist") and callable(obj.tolist):  # numpy arrays and scalars, torch
        return obj.tolist()
    if hasattr(obj, "item") and callable(obj.item):
        return obj.item()
    raise TypeError(f"object of type {type(obj).__name__} is not JSON serialisable")


def dumps_json(obj: Any, *, allow_nan: bool = False, indent: int | None = 2) -> str:
    """Serialise ``obj`` as taskdiff's on-disk JSON: sorted keys, UTF-8, final newline.

    Raises
    ------
    ValueError
        If ``obj`` contains NaN or an infinity and ``allow_nan`` is False.
    TypeError
        If ``obj`` contains something that is not JSON-able.
    """
    return json.dumps(obj, sort_keys=True, ensure_ascii=False, allow_nan=allow_nan,
                      indent=indent, default=_json_default) + "\n"


def atomic_write_json(path: str | Path, obj: Any, *, allow_nan: bool = False,
                      indent: int | None = 2) -> Path:
    """Write ``obj`` as JSON (:func:`dumps_json`) to ``path`` atomically; return the path.

    The object is serialised before anything touches the disk, so a non-JSON-able object
    (or a NaN when ``allow_nan`` is False) leaves the old file as it was.
    """
    return atomic_write_text(path, dumps_json(obj, allow_nan=allow_nan, indent=indent))


def _rows_to_csv(rows: Iterable[Any], columns: Sequence[str] | None) -> str:
    rows = list(rows)
    buf = io.StringIO()
    if rows and isinstance(rows[0], Mapping):
        if columns is None:
            seen: dict[str, None] = {}
            for row in rows:
                seen.update(dict.fromkeys(row))
            columns = list(seen)
        writer = csv.DictWriter(buf, fieldnames=list(columns), lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    else:
        writer = csv.writer(buf, lineterminator="\n")
        if columns is not None:
            writer.writerow(columns)
        writer.writerows(rows)
    return buf.getvalue()


def atomic_write_csv(df_or_rows: Any, path: str | Path, *,
                     columns: Sequence[str] | None = None) -> Path:
    """Write a table as CSV (UTF-8, ``\\n`` line ends) to ``path`` atomically.

    Parameters
    ----------
    df_or_rows : pandas.DataFrame or iterable of dict or iterable of sequence
        A data frame is written without its index. Dict rows get a header made of
        ``columns`` or else of the keys in first-seen order (missing values are empty).
        Sequence rows get a header only if ``columns`` is given.
    path : str or Path
        The target file.
    columns : sequence of str, optional
        Column order / header.
    """
    if hasattr(df_or_rows, "to_csv"):
        frame = df_or_rows if columns is None else df_or_rows[list(columns)]
        text = frame.to_csv(index=False, lineterminator="\n")
    else:
        text = _rows_to_csv(df_or_rows, columns)
    return atomic_write_text(path, text)


#: (path, device, inode, size, mtime_ns) -> hex digest, for :func:`sha256_file_cached`.
_DIGESTS: dict[tuple, str] = {}


def sha256_file_cached(path: str | Path) -> str:
    """:func:`sha256_file`, remembered in this process while the file's stat is unchanged.

    A done-check of the run store verifies every checksummed file, and a profile or a
    study checks the same runs many times (a kept e5-small encoder is 470 MB: ~1.5 s a
    hash). Any rewrite changes the size or the nanosecond mtime, so a changed file is
    hashed again; each new process hashes once. (Written by hand: a dict keyed by
    ``os.stat`` fields is all it takes.)
    """
    st = os.stat(path)
    key = (os.path.abspath(path), st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns)
    digest = _DIGESTS.get(key)
    if digest is None:
        digest = _DIGESTS[key] = sha256_file(path)
    return digest


def sha256_file(path: str | Path) -> str:
    """The hex SHA-256 of a file's bytes, read in 1 MiB chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(_CHUNK), b""):
            digest.update(chunk)
    return digest.hexdigest()


def format_conllu(sentences: Iterable[tuple[Sequence[str], Iterable[Sequence[str]]]]) -> str:
    """CoNLL-U text: per sentence its comment lines, its token lines, then a blank line.

    Parameters
    ----------
    sentences : iterable of (comments, tokens)
        ``comments`` without the leading ``# `` (``"sent_id = x-0001"``); ``tokens`` the
        ten fields of each word (ID, FORM, LEMMA, UPOS, XPOS, FEATS, HEAD, DEPREL, DEPS, MISC).
    """
    blocks = []
    for comments, tokens in sentences:
        lines = [f"# {c}" for c in comments] + ["\t".join(str(f) for f in fields) for fields in tokens]
        blocks.append("\n".join(lines) + "\n\n")
    return "".join(blocks)


def read_json(path: str | Path) -> Any:
    """Read a JSON file.

    Raises
    ------
    DataError
        If the file is not UTF-8 or not valid JSON; ``line`` is the 1-based line and the
        message (and the ``column`` attribute) gives the 1-based column.
    FileNotFoundError
        If the file does not exist.
    """
    raw = Path(path).read_bytes()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as err:
        raise DataError(path, "UTF-8 text", f"byte {raw[err.start]:#04x} at offset {err.start}") from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as err:
        exc = DataError(path, "valid JSON", f"{err.msg} at column {err.colno}", line=err.lineno)
        exc.column = err.colno
        raise exc from None
