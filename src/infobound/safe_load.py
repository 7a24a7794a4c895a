"""Loading files without executing code.

A pickle can name any importable callable (``os.system``, ``subprocess.run``) and have it called on
load, so a shared checkpoint, teacher or dataset file could run commands on the user's machine.
Every file infobound reads goes through one of two doors:

* :func:`load_torch` — checkpoints, teachers, resumes and Lightning's ``load_from_checkpoint``:
  ``torch.load(weights_only=True)``, whose unpickler admits tensors, numbers, strings, lists, tuples,
  dicts/OrderedDicts and torch's own dtype/device/storage types, plus :data:`SAFE_TORCH_GLOBALS`.
  We save hyper-parameters as plain dicts, strings and numbers, so that list is empty.
* :func:`load_data_pickle` — CIFAR's ``cifar-*-python`` batches: an unpickler that admits numpy
  arrays (and their dtypes), dicts, lists, tuples, bytes, strings and numbers, nothing else.

``.npy``/``.npz`` files are read with ``allow_pickle=False``. A refused file raises
:class:`UnsafeFileError` with a one-line message that names the file and what it asked for.
"""

from __future__ import annotations

import pickle
import re
from pathlib import Path
from typing import Any

import torch

# Types beyond torch's weights-only defaults that our checkpoints hold: none (hyper-parameters are plain
# dicts, strings and numbers). A new entry must be a class with no side effects on construction.
SAFE_TORCH_GLOBALS: list[Any] = []

# What a pickled numpy array needs (numpy 1 and 2 module paths), and the byte-string constructor of
# protocol-2 pickles written by Python 3. None of them can reach the file system or a shell.
_DATA_GLOBALS = frozenset({
    ("numpy.core.multiarray", "_reconstruct"), ("numpy._core.multiarray", "_reconstruct"),
    ("numpy.core.numeric", "_frombuffer"), ("numpy._core.numeric", "_frombuffer"),
    ("numpy", "ndarray"), ("numpy", "dtype"), ("_codecs", "encode"),
})


class UnsafeFileError(ValueError):
    """A file was refused because loading it would need more than plain data (it could run code)."""


def _why_refused(err: Exception) -> str:
    """The offending global or opcode from torch's long weights-only error message, on one line."""
    text = str(err)
    found = re.search(r"GLOBAL ([\w.]+)", text) or re.search(r"global[: ]+([\w.]+)", text, re.IGNORECASE)
    if found:
        return f"its pickle asks for `{found.group(1)}`"
    for line in text.splitlines():
        if line.strip().startswith("Unsupported"):
            return line.strip().rstrip(".")
    return text.strip().splitlines()[0] if text.strip() else type(err).__name__


def load_torch(path: str | Path, what: str = "checkpoint") -> Any:
    """``torch.load(path, weights_only=True)`` onto the CPU, with a one-line error when the file is refused.

    Args:
        path: the file.
        what: what the file is meant to be (``teacher``, ``checkpoint``...), for the error message.

    Raises:
        FileNotFoundError: no such file.
        UnsafeFileError: the pickle needs a type outside the weights-only allow-list (nothing of it ran).
        ValueError: the file is not a torch checkpoint at all.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{what} {str(path)!r} does not exist")
    try:
        with torch.serialization.safe_globals(SAFE_TORCH_GLOBALS):
            return torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as err:
        # A named global is a request for code; anything else (an opcode outside the safe set) means the
        # bytes are not a checkpoint pickle at all. Either way nothing of the file was executed.
        if "Weights only load failed" in str(err) and re.search(r"GLOBAL |global", str(err)):
            raise UnsafeFileError(
                f"{what} {str(path)!r} refused: {_why_refused(err)}, which a weights-only load does not allow "
                "(tensors, numbers, strings, lists and dicts only); infobound never runs code from a file"
            ) from None
        raise ValueError(f"{what} {str(path)!r} is not a torch checkpoint ({_why_refused(err)})") from None
    except (RuntimeError, EOFError, KeyError, OSError) as err:  # torch's errors for a file of another format
        reason = "unrecognised format" if isinstance(err, KeyError) else _why_refused(err)
        raise ValueError(f"{what} {str(path)!r} is not a torch checkpoint ({reason})") from None


class _DataUnpickler(pickle.Unpickler):
    """Admits numpy arrays and plain containers; any other global is refused before it is imported."""

    def __init__(self, fh: Any, path: Path, what: str) -> None:
        super().__init__(fh, encoding="latin1")  # CIFAR's batches are Python 2 pickles
        self._path, self._what = path, what

    def find_class(self, module: str, name: str) -> Any:
        if (module, name) in _DATA_GLOBALS:
            return super().find_class(module, name)
        raise UnsafeFileError(
            f"{self._what} {str(self._path)!r} refused: its pickle asks for `{module}.{name}`; only numpy arrays, "
            "dicts, lists, bytes, strings and numbers are loaded (infobound never runs code from a file)"
        )

    def persistent_load(self, pid: Any) -> Any:
        raise UnsafeFileError(f"{self._what} {str(self._path)!r} refused: its pickle refers to external objects "
                              "(a torch file?), which a plain data pickle never does")


def load_data_pickle(path: str | Path, what: str = "data file") -> Any:
    """Unpickle a data file (CIFAR's python batches) admitting only numpy arrays, dicts, lists, bytes, strings.

    Raises:
        UnsafeFileError: the pickle names any other global (it is refused before anything is imported).
    """
    path = Path(path)
    with open(path, "rb") as fh:
        try:
            return _DataUnpickler(fh, path, what).load()
        except (pickle.UnpicklingError, EOFError, ValueError, TypeError, IndexError, KeyError) as err:
            if isinstance(err, UnsafeFileError):
                raise
            first = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
            raise ValueError(f"{what} {str(path)!r} is not a pickle of plain data ({first})") from None


__all__ = ["SAFE_TORCH_GLOBALS", "UnsafeFileError", "load_data_pickle", "load_torch"]
