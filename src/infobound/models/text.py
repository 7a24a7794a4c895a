r"""Sentence encoders over token ids, trained from scratch: a small transformer and a 1-D CNN.

Both take int token ids ``[N, L]`` padded with id 0, or a dataset's ``[N, 3, L]`` (definition,
example, lemmas) rows, of which they embed row 0 (the definition: what probes see). The sentence
embedding is the mean over the non-pad positions of the last layer (SimCSE's and Sentence-BERT's
mean pooling),

.. math::  h = \frac{1}{\lvert\{t: m_t\}\rvert}\sum_{t:\,m_t} z_t,\qquad m_t = [\text{token}_t \ne \text{PAD}].

Dropout sits on the embeddings and inside every layer, so two passes of the same sentence in
train mode give two different embeddings: SimCSE's only augmentation (Gao, Yao & Chen, EMNLP 2021).
A sentence with no tokens (an empty example row) embeds as its position-0 padding.

``token_dropout`` also drops whole tokens (word dropout: a dropped token is masked out of
attention and pooling) with that probability in train mode. From scratch, neuron dropout alone
makes the two views too easy to match (a sentence is identified by its words, InfoNCE sits at
its ceiling after one epoch, and the probe stays at the random encoder's); dropping tokens makes
the two passes share only part of the words, so co-occurring words have to map close together.

Like every :class:`~infobound.models.encoders.Encoder`, ``encoder.forward_stages(x)`` returns one
mean-pooled ``[N, dim]`` feature per stage (layer), shallowest first; the last stage is ``h`` itself
(InfoCL's LBE reads them). ``config`` holds the constructor arguments, so a fresh encoder at random
initialisation can be rebuilt with ``type(enc)(**enc.config)``.
"""

from __future__ import annotations

from functools import partial
from typing import Any, Callable, Sequence

import torch
from torch import Tensor, nn

from .encoders import Encoder


def token_ids(x: Tensor) -> Tensor:
    """``[N, L]`` ids from ``[N, L]`` or ``[N, R, L]`` (row 0, the definition); errors on anything else."""
    if x.dim() == 3:
        x = x[:, 0]
    if x.dim() != 2 or x.is_floating_point():
        raise ValueError(f"text encoders take integer token ids [N, L] or [N, R, L], got {x.dtype} {tuple(x.shape)}")
    return x.long()


def mean_pool(z: Tensor, mask: Tensor) -> Tensor:
    """Mean of ``z [N, L, d]`` over the positions where ``mask [N, L]`` is True."""
    w = mask.unsqueeze(-1).to(z.dtype)
    return (z * w).sum(1) / w.sum(1).clamp_min(1.0)


def weighted_pool(z: Tensor, mask: Tensor, logits: Tensor) -> Tensor:
    r"""Softmax-weighted mean of ``z [N, L, d]`` over the masked positions, ``logits [N, L]`` one score per token:

    .. math::  h = \sum_{t:\,m_t} \frac{e^{g_t}}{\sum_{s:\,m_s} e^{g_s}}\, z_t .

    With all ``g_t`` equal it is :func:`mean_pool`. A learned per-word score ``g`` lets frequent,
    uninformative words (``a``, ``of``, ``the``) weigh less than content words, as IDF or SIF weights
    (Arora, Liang & Ma, ICLR 2017) do by counting.
    """
    return (z * pool_weights(mask, logits).unsqueeze(-1)).sum(1)


def pool_weights(mask: Tensor, logits: Tensor | None = None) -> Tensor:
    """``[N, L]`` weights of :func:`mean_pool` (``logits`` None) or :func:`weighted_pool`: zero off the mask, rows sum to 1."""
    if logits is None:
        w = mask.to(torch.float32)
        return w / w.sum(1, keepdim=True).clamp_min(1.0)
    # an all-masked row (never produced by _mask) gets zero weights, so it pools to zero
    return torch.softmax(logits.masked_fill(~mask, float("-inf")), dim=1).nan_to_num(0.0)


def _mask(ids: Tensor, token_dropout: float = 0.0) -> Tensor:
    """Non-pad positions, each dropped with probability ``token_dropout`` (train mode only); a row left
    empty keeps its first position so attention and pooling stay defined."""
    mask = ids != 0
    if token_dropout > 0:
        kept = mask & (torch.rand(mask.shape, device=ids.device) >= token_dropout)
        first = mask.float().argmax(1)  # an all-dropped sentence keeps its first token
        kept[torch.arange(len(ids), device=ids.device), first] |= ~kept.any(1) & mask.any(1)
        mask = kept
    mask[:, 0] |= ~mask.any(1)
    return mask


def _init_embeddings(*tables: nn.Embedding, std: float = 0.02) -> None:
    """N(0, 0.02²) as BERT, padding row zero. torch's N(0, 1) default makes the tables too large for
    Adam's ~lr-sized steps: in a short CPU run rare words never leave their random vectors."""
    for table in tables:
        nn.init.normal_(table.weight, std=std)
        if table.padding_idx is not None:
            with torch.no_grad():
                table.weight[table.padding_idx].zero_()


def _trim(ids: Tensor) -> Tensor:
    """Drop the trailing columns that are padding in every row (batches are padded to the dataset's longest)."""
    used = (ids != 0).any(0).nonzero()
    return ids[:, :int(used.max()) + 1] if len(used) else ids[:, :1]


class TextTransformer(Encoder):
    """Pre-LayerNorm transformer encoder (learned positions, GELU) with mean pooling.

    Args:
        input_shape: ``(L,)`` or ``(2, L)``; L is the longest sequence (learned positions).
        vocab_size: tokenizer vocabulary (id 0 is padding).
        dim: model width = ``output_dim``.
        layers: transformer layers (each one stage of the block features).
        heads: attention heads.
        ff_dim: feed-forward width (default 2·dim; BERT uses 4·dim, halved to stay cheap on CPU).
        dropout: dropout on embeddings, attention and feed-forward (SimCSE: 0.1).
        token_dropout: probability of dropping a whole token in train mode (0: SimCSE's dropout alone).
    """

    def __init__(self, input_shape: Sequence[int], vocab_size: int = 8000, dim: int = 128, layers: int = 2,
                 heads: int = 4, ff_dim: int | None = None, dropout: float = 0.1, token_dropout: float = 0.0) -> None:
        super().__init__()
        if len(input_shape) not in (1, 2):
            raise ValueError(f"TextTransformer expects input_shape (L,) or (R, L) (rows of a dataset sample), got {tuple(input_shape)}")
        if vocab_size < 2 or dim < 1 or layers < 1 or dim % heads or not (0 <= dropout < 1 and 0 <= token_dropout < 1):
            raise ValueError(f"need vocab_size >= 2, layers >= 1, dim divisible by heads, dropout in [0, 1); got "
                             f"vocab_size={vocab_size}, dim={dim}, heads={heads}, layers={layers}, dropout={dropout}")
        self.config: dict[str, Any] = dict(input_shape=tuple(input_shape), vocab_size=vocab_size, dim=dim, layers=layers,
                                           heads=heads, ff_dim=ff_dim, dropout=dropout, token_dropout=token_dropout)
        self.token_dropout = token_dropout
        self.max_length = int(input_shape[-1])
        self.embed = nn.Embedding(vocab_size, dim, padding_idx=0)
        self.position = nn.Embedding(self.max_length, dim)
        self.dropout = nn.Dropout(dropout)
        self.layers = nn.ModuleList(
            nn.TransformerEncoderLayer(dim, heads, ff_dim or 2 * dim, dropout, activation="gelu", batch_first=True,
                                       norm_first=True) for _ in range(layers))
        self.norm = nn.LayerNorm(dim)
        self.output_dim = dim
        _init_embeddings(self.embed, self.position)

    def forward_stages(self, x: Tensor) -> list[Tensor]:
        ids = _trim(token_ids(x))
        if ids.shape[1] > self.max_length:
            raise ValueError(f"sequences of {ids.shape[1]} tokens exceed the encoder's {self.max_length} positions")
        mask = _mask(ids, self.token_dropout if self.training else 0.0)
        positions = torch.arange(ids.shape[1], device=ids.device)
        z = self.dropout(self.embed(ids) + self.position(positions))
        feats = []
        for i, layer in enumerate(self.layers):
            z = layer(z, src_key_padding_mask=~mask)
            feats.append(mean_pool(self.norm(z) if i == len(self.layers) - 1 else z, mask))
        return feats


class TextCNN(Encoder):
    """Token embedding → ``layers`` × (Conv1d kernel ``kernel_size``, same length, GELU, dropout, residual),
    masked mean pool, LayerNorm.

    A cheaper alternative to :class:`TextTransformer` on CPU (no attention); ``layers=0`` is the
    mean of the word embeddings (a bag of embeddings, as fastText's sentence vectors). Padded positions are
    zeroed after each layer, so a sentence's embedding does not depend on how much padding follows it.

    Args:
        input_shape: ``(L,)`` or ``(2, L)``.
        vocab_size: tokenizer vocabulary (id 0 is padding).
        dim: embedding and channel width = ``output_dim``.
        layers: convolution layers (each one stage of the block features; 0: the pooled embeddings are the one stage).
        kernel_size: odd convolution width.
        dropout: dropout on embeddings and after every layer.
        token_dropout: probability of dropping a whole token in train mode.
        pooling: ``mean`` over the non-pad tokens, or ``weighted``: a softmax over one learned score per
            vocabulary entry (:func:`weighted_pool`; scores start at 0, i.e. at the mean, so the random
            initialisation is the same encoder as with ``mean``).
        sparse_embeddings: build the tables with sparse gradients, so the methods' optimiser updates only
            the rows a batch used (lazy Adam, :mod:`infobound.methods.optimizers`): what makes a wide bag of
            embeddings over a large vocabulary affordable on CPU. Not for NCCL DDP (no sparse all-reduce).
        head_tokens: also pool the first ``head_tokens`` positions on their own and append them (own
            LayerNorm) to the sentence embedding, ``output_dim = 2 * dim`` (0: off). A bag of embeddings
            is blind to word order; a dictionary definition names its genus first ("a dog", "move fast",
            "the act of ...": genus and differentia), so the opening words carry most of the category.
    """

    POOLINGS = ("mean", "weighted")

    def __init__(self, input_shape: Sequence[int], vocab_size: int = 8000, dim: int = 128, layers: int = 2,
                 kernel_size: int = 3, dropout: float = 0.1, token_dropout: float = 0.0, pooling: str = "mean",
                 sparse_embeddings: bool = False, head_tokens: int = 0) -> None:
        super().__init__()
        if len(input_shape) not in (1, 2):
            raise ValueError(f"TextCNN expects input_shape (L,) or (R, L) (rows of a dataset sample), got {tuple(input_shape)}")
        if (vocab_size < 2 or dim < 1 or layers < 0 or kernel_size % 2 == 0
                or not (0 <= dropout < 1 and 0 <= token_dropout < 1) or head_tokens < 0):
            raise ValueError(f"need vocab_size >= 2, dim >= 1, layers >= 0, odd kernel_size, dropout in [0, 1), "
                             f"head_tokens >= 0; got {vocab_size}, {dim}, {layers}, {kernel_size}, {dropout}, "
                             f"{token_dropout}, {head_tokens}")
        if pooling not in self.POOLINGS:
            raise ValueError(f"`pooling` must be one of {self.POOLINGS}, got {pooling!r}")
        self.config: dict[str, Any] = dict(input_shape=tuple(input_shape), vocab_size=vocab_size, dim=dim, layers=layers,
                                           kernel_size=kernel_size, dropout=dropout, token_dropout=token_dropout,
                                           pooling=pooling, sparse_embeddings=bool(sparse_embeddings))
        if head_tokens:  # absent from the config when off, so older checkpoints' configs rebuild unchanged
            self.config["head_tokens"] = int(head_tokens)
        # one score per word; the zero table keeps the random-init encoder identical to mean pooling
        self.token_score = (nn.Embedding(vocab_size, 1, padding_idx=0, sparse=bool(sparse_embeddings))
                            if pooling == "weighted" else None)
        if self.token_score is not None:
            nn.init.zeros_(self.token_score.weight)
        self.token_dropout = token_dropout
        self.embed = nn.Embedding(vocab_size, dim, padding_idx=0, sparse=bool(sparse_embeddings))
        self.dropout = nn.Dropout(dropout)
        self.convs = nn.ModuleList(nn.Conv1d(dim, dim, kernel_size, padding=kernel_size // 2) for _ in range(layers))
        self.norm = nn.LayerNorm(dim)
        self.head_tokens = int(head_tokens)
        self.head_norm = nn.LayerNorm(dim) if head_tokens else None
        self.output_dim = dim * (2 if head_tokens else 1)
        _init_embeddings(self.embed)

    def _weights(self, mask: Tensor, scores: Tensor | None) -> Tensor:
        """``[N, R, L]`` pooling weights: the whole sentence, then (``head_tokens``) its first positions alone."""
        rows = [pool_weights(mask, scores)]
        if self.head_tokens:
            head = mask & (torch.arange(mask.shape[1], device=mask.device) < self.head_tokens)
            rows.append(pool_weights(head, scores))
        return torch.stack(rows, 1)

    def _output(self, pooled: Tensor) -> Tensor:
        """LayerNorm of the sentence row of ``pooled [N, R, dim]``, the head row appended with its own."""
        h = self.norm(pooled[:, 0])
        return h if self.head_norm is None else torch.cat([h, self.head_norm(pooled[:, 1])], 1)

    def forward_stages(self, x: Tensor) -> list[Tensor]:
        ids = _trim(token_ids(x))
        mask = _mask(ids, self.token_dropout if self.training else 0.0)
        scores = self.token_score(ids).squeeze(-1) if self.token_score is not None else None
        if not self.convs:
            # bag of embeddings: one batched product with the pooling weights (zero off the mask) instead
            # of masking, scaling and summing the [N, L, dim] tensor in three passes; same value
            return [self._output(torch.bmm(self._weights(mask, scores), self.dropout(self.embed(ids))))]
        keep = mask.unsqueeze(1).to(torch.float32)
        z = self.dropout(self.embed(ids)).transpose(1, 2) * keep  # [N, dim, L]
        pool: Callable[[Tensor, Tensor], Tensor] = mean_pool if scores is None else partial(weighted_pool, logits=scores)
        feats = []
        for i, conv in enumerate(self.convs):
            z = self.dropout(nn.functional.gelu(conv(z)) + z) * keep  # residual: deeper stacks train as easily
            if i < len(self.convs) - 1:
                feats.append(pool(z.transpose(1, 2), mask))
        return feats + [self._output(torch.bmm(self._weights(mask, scores), z.transpose(1, 2)))]


__all__ = ["TextCNN", "TextTransformer", "mean_pool", "pool_weights", "token_ids", "weighted_pool"]
