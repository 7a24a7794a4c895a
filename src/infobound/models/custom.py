"""Your own encoder: any ``nn.Module`` (Python) or ``package.module:Class`` (CLI) in place of a built-in one.

What a user encoder must do (the library's encoders do the same):

- ``encoder(x) -> h``: a batch of (augmented) inputs ``[n, *input_shape]`` in, the representation
  ``[n, d]`` out — flatten or pool inside the module. Probes read h; the projection head sits on it.
- ``output_dim`` (optional): d. Without it, d is measured once with a forward pass on a zero batch
  and stored on the module as ``output_dim``.
- ``forward_stages(x) -> [s_1, ..., s_S]`` (optional): every stage's ``[n, c_s]`` output, shallowest
  first, the last being h itself. InfoCL's LBE regularises the last three stages; a module without
  ``forward_stages`` is one stage, h (LBE then regularises h only).

:func:`resolve_encoder` turns what the user gave into the module: a module instance is used as is, a
built-in name goes to :func:`~infobound.models.build_encoder`, and a ``"package.module:Class"`` (or
``"path/to/file.py:Class"``) string is imported and called — with ``input_shape=`` when its signature
takes that argument, plus the ``encoder_kwargs`` — so a checkpoint that stores the string can rebuild
the encoder wherever the module can be imported.
"""

from __future__ import annotations

import importlib
import importlib.util
import inspect
import sys
from pathlib import Path
from typing import Any, Sequence

import torch
from torch import nn

from .encoders import available_encoders, build_encoder, default_encoder


def import_object(spec: str) -> Any:
    """The object named by ``"package.module:Name"`` (``Name`` may be dotted) or ``"path/to/file.py:Name"``.

    The current directory is searched too (as ``python -m`` does), so a module next to where
    ``infobound`` runs is found without installing it.
    """
    module_name, sep, attr = spec.partition(":")
    if not sep or not module_name or not attr:
        raise ValueError(f"encoder {spec!r}: expected 'package.module:Class' or 'path/to/file.py:Class'")
    if module_name.endswith(".py"):
        path = Path(module_name).expanduser()
        if not path.is_file():
            raise ImportError(f"encoder {spec!r}: file {str(path)!r} does not exist")
        unit = importlib.util.spec_from_file_location(f"_infobound_user_{path.stem}", path)
        if unit is None or unit.loader is None:
            raise ImportError(f"encoder {spec!r}: cannot import {str(path)!r}")
        module = importlib.util.module_from_spec(unit)
        sys.modules[unit.name] = module  # pickling (checkpoints, DDP spawn) looks classes up here
        unit.loader.exec_module(module)
    else:
        cwd = str(Path.cwd())
        added = cwd not in sys.path
        if added:
            sys.path.append(cwd)
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as err:
            raise ImportError(f"encoder {spec!r}: cannot import {module_name!r} ({err}); is it installed or in the "
                              f"current directory?") from err
    obj: Any = module
    for part in attr.split("."):
        if not hasattr(obj, part):
            raise ImportError(f"encoder {spec!r}: {module_name!r} has no attribute {attr!r}")
        obj = getattr(obj, part)
    return obj


def encoder_output_dim(encoder: nn.Module, input_shape: Sequence[int]) -> int:
    """``encoder.output_dim``, or d measured from ``encoder(zeros(2, *input_shape))`` (eval mode, no grad)
    and then stored as ``encoder.output_dim``."""
    declared = getattr(encoder, "output_dim", None)
    if declared is not None:
        return int(declared)
    param = next(iter(encoder.parameters()), None)
    x = torch.zeros(2, *input_shape, device=param.device if param is not None else None)
    was_training = encoder.training
    encoder.eval()
    try:
        with torch.no_grad():
            h = encoder(x)
    finally:
        encoder.train(was_training)
    if not isinstance(h, torch.Tensor) or h.dim() != 2 or h.shape[0] != 2:
        got = tuple(h.shape) if isinstance(h, torch.Tensor) else type(h).__name__
        raise ValueError(f"encoder {type(encoder).__name__}: encoder(x) must return h of shape [n, d] for x of shape "
                         f"[n, *{tuple(input_shape)}]; got {got} for n = 2 (flatten or pool inside the module)")
    encoder.output_dim = int(h.shape[1])
    return encoder.output_dim


def resolve_encoder(encoder: str | nn.Module | None, input_shape: Sequence[int], **kwargs: Any) -> nn.Module:
    """The encoder module from a module, a built-in name, an import path or ``None`` (the default for the shape).

    Args:
        encoder: an ``nn.Module`` (used as is; ``kwargs`` must be empty), a built-in name (``mlp``,
            ``cnn1d``, ...), ``"package.module:Class"`` / ``"file.py:Class"`` (a class or factory
            returning an ``nn.Module``), or ``None``.
        input_shape: the shape of one example.
        kwargs: the encoder's constructor arguments (``encoder_kwargs``).

    Returns:
        The module, with ``output_dim`` set (see :func:`encoder_output_dim`).
    """
    shape = tuple(input_shape)
    if isinstance(encoder, nn.Module):
        if kwargs:
            raise ValueError(f"`encoder_kwargs` {sorted(kwargs)} given with an encoder instance; construct the "
                             f"module with them instead")
        module = encoder
    elif encoder is None or ":" not in encoder:
        if encoder is not None and encoder not in available_encoders():
            raise ValueError(f"unknown encoder {encoder!r}; expected one of {available_encoders()} or your own as "
                             f"'package.module:Class' or 'path/to/file.py:Class'")
        module = build_encoder(encoder or default_encoder(shape), shape, **kwargs)
    else:
        factory = import_object(encoder)
        if not callable(factory):
            raise TypeError(f"encoder {encoder!r} is a {type(factory).__name__}, not a class or function")
        try:
            params = inspect.signature(factory).parameters
        except (TypeError, ValueError):  # some builtins have no signature
            params = {}
        call_kwargs = dict(kwargs)
        if "input_shape" in params and "input_shape" not in call_kwargs:
            call_kwargs["input_shape"] = shape
        module = factory(**call_kwargs)
        if not isinstance(module, nn.Module):
            raise TypeError(f"encoder {encoder!r} returned a {type(module).__name__}, not a torch.nn.Module")
    encoder_output_dim(module, shape)
    return module


def encoder_spec(encoder: str | nn.Module | None) -> str | None:
    """What a checkpoint stores for ``encoder``: the string as given; for a module instance its class's
    import path (informative only: the constructor's arguments are unknown, so the instance must be
    passed again to ``load_from_checkpoint``)."""
    if isinstance(encoder, nn.Module):
        return f"{type(encoder).__module__}:{type(encoder).__qualname__}"
    return encoder
