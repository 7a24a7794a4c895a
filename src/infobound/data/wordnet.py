r"""WordNet 3.0 glosses as a text dataset, read straight from the Debian ``wordnet-base`` data files.

The four files ``data.noun``, ``data.verb``, ``data.adj`` and ``data.adv`` follow wndb(5WN): after a
licence header (lines starting with two spaces) every line is one synset,

``synset_offset lex_filenum ss_type w_cnt word lex_id [word lex_id...] p_cnt [ptr...] [frames...] | gloss``

where ``synset_offset`` is the byte offset of the line in its file (8 digits), ``lex_filenum`` the
lexicographer file (its name fixed by lexnames(5WN), :data:`LEXNAMES`), ``w_cnt`` a two-digit hex
count, ``p_cnt`` a three-digit decimal count of pointers ``pointer_symbol synset_offset pos source/target``.
We read the file directly instead of through NLTK: NLTK's reader wants a ``lexnames`` file Debian
does not ship and refuses corpus paths outside its data path.

A gloss is a definition followed by optional example sentences, each a double-quoted part after a
``;`` (``draw air into, and expel out of, the lungs; "I can breathe better now"``). Every synset
becomes one example: its definition (the sentence that is embedded and probed), its examples (the
paraphrase partner of the ``definition_example`` views), its words (the headword line of the
``lemma_definition`` views), its lexicographer category (45 classes, the
label of the linear probe) and its hypernym pointers (``@`` and ``@i``; WordNet path similarity).

Text is tokenised by a WordPiece model of the ``tokenizers`` library whose vocabulary is counted
here from the training split's sentences (lower-cased, accents stripped, split on whitespace and
punctuation; :func:`train_tokenizer`); it is deterministic, so a checkpoint's data reloads with the
same ids. The tensors are
int32 token ids ``[N, 3, L]``: row 0 the definition, row 1 the first example sentence (empty, i.e.
all padding, when the synset has none), row 2 the synset's words as one line (``dog, domestic dog``),
padded with id 0 (``[PAD]``) and cut at ``L = max_length``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator, Sequence

import numpy as np
import torch
from torch import Tensor

from .datasets import DatasetSplits

# lexnames(5WN): the lexicographer file of number i is LEXNAMES[i].
LEXNAMES: tuple[str, ...] = (
    "adj.all", "adj.pert", "adv.all", "noun.Tops", "noun.act", "noun.animal", "noun.artifact", "noun.attribute",
    "noun.body", "noun.cognition", "noun.communication", "noun.event", "noun.feeling", "noun.food", "noun.group",
    "noun.location", "noun.motive", "noun.object", "noun.person", "noun.phenomenon", "noun.plant",
    "noun.possession", "noun.process", "noun.quantity", "noun.relation", "noun.shape", "noun.state",
    "noun.substance", "noun.time", "verb.body", "verb.change", "verb.cognition", "verb.communication",
    "verb.competition", "verb.consumption", "verb.contact", "verb.creation", "verb.emotion", "verb.motion",
    "verb.perception", "verb.possession", "verb.social", "verb.stative", "verb.weather", "adj.ppl",
)
DATA_FILES = {"n": "data.noun", "v": "data.verb", "a": "data.adj", "r": "data.adv"}
HYPERNYM_POINTERS = ("@", "@i")  # hypernym and instance hypernym, the edges NLTK's path similarity climbs
PAD, UNK = "[PAD]", "[UNK]"
PACKAGE_HINT = ("WordNet 3.0 as Debian ships it: `apt-get install wordnet-base` puts data.noun, data.verb, "
                "data.adj and data.adv in /usr/share/wordnet (pass --data_dir /usr/share/wordnet)")


@dataclass(frozen=True)
class Synset:
    """One data-file line: ``key`` is ``"<pos>:<offset>"`` (``pos`` n, v, a or r; satellites ``s`` are ``a``)."""

    key: str
    pos: str
    lexname: int
    words: tuple[str, ...]
    definition: str
    examples: tuple[str, ...]
    hypernyms: tuple[str, ...]

    @property
    def lemma_text(self) -> str:
        """The synset's words as a dictionary headword line: ``dog, domestic dog, Canis familiaris``.

        wndb(5WN) writes a collocation with underscores and may append an adjective's syntactic marker
        (``(a)``, ``(p)``, ``(ip)``) to the word; both are undone here.
        """
        return ", ".join(_ADJ_MARKER.sub("", w).replace("_", " ") for w in self.words)


_ADJ_MARKER = re.compile(r"\((?:a|p|ip)\)$")


def split_gloss(gloss: str) -> tuple[str, tuple[str, ...]]:
    """Definition and example sentences of a gloss.

    The gloss is cut at every ``;`` outside double quotes; a part that starts with ``"`` is an example
    (its quoted text, without the attribution that sometimes follows the closing quote), the other
    parts joined by ``"; "`` are the definition.
    """
    parts, current, quoted = [], [], False
    for ch in gloss:
        if ch == '"':
            quoted = not quoted
        if ch == ";" and not quoted:
            parts.append("".join(current))
            current = []
        else:
            current.append(ch)
    parts.append("".join(current))
    definition, examples = [], []
    for part in (p.strip() for p in parts):
        if not part:
            continue
        if part.startswith('"'):
            end = part.find('"', 1)
            text = part[1:end if end > 0 else len(part)].strip()
            if text:
                examples.append(text)
        else:
            definition.append(part)
    return "; ".join(definition), tuple(examples)


def _parse_line(line: str, pos: str, path: Path, offset: int) -> Synset:
    head, bar, gloss = line.partition(" | ")
    fields = head.split()
    try:
        if int(fields[0]) != offset:
            raise ValueError(f"synset_offset {fields[0]} differs from the line's byte offset {offset}")
        lexname = int(fields[1])
        if not 0 <= lexname < len(LEXNAMES):
            raise ValueError(f"lex_filenum {lexname} outside 0..{len(LEXNAMES) - 1}")
        w_cnt = int(fields[3], 16)
        words = tuple(fields[4:4 + 2 * w_cnt:2])
        i = 4 + 2 * w_cnt
        p_cnt = int(fields[i])
        pointers = [fields[i + 1 + 4 * k:i + 5 + 4 * k] for k in range(p_cnt)]
        if len(words) != w_cnt or any(len(p) != 4 for p in pointers):
            raise ValueError("fewer words or pointers than w_cnt / p_cnt announce")
    except (ValueError, IndexError) as err:
        raise ValueError(f"{path}: malformed wndb(5WN) line at byte {offset}: {err}") from err
    hypernyms = tuple(f"{p[2]}:{int(p[1]):08d}" for p in pointers if p[0] in HYPERNYM_POINTERS)
    definition, examples = split_gloss(gloss.strip()) if bar else ("", ())
    return Synset(f"{pos}:{offset:08d}", pos, lexname, words, definition, examples, hypernyms)


def _lines(path: Path) -> Iterator[tuple[int, str]]:
    """(byte offset, decoded line) of every synset line (the licence header is skipped)."""
    offset = 0
    with open(path, "rb") as fh:
        for raw in fh:
            if not raw.startswith(b"  ") and raw.strip():
                yield offset, raw.decode("utf-8", errors="replace").rstrip("\n")
            offset += len(raw)


def check_wordnet_dir(data_dir: str | Path | None) -> Path:
    """The directory holding the four data files, or a FileNotFoundError naming the package."""
    if data_dir is None:
        raise FileNotFoundError(f"dataset 'wordnet' is read from local files: pass data_dir (CLI: --data_dir DIR). "
                                f"{PACKAGE_HINT}")
    root = Path(data_dir).expanduser()
    for base in (root, root / "dict"):  # Princeton's tarball keeps them under dict/
        if all((base / f).is_file() for f in DATA_FILES.values()):
            return base
    missing = [f for f in DATA_FILES.values() if not (root / f).is_file()]
    raise FileNotFoundError(f"dataset 'wordnet': {', '.join(missing)} not found in {str(root)!r}. {PACKAGE_HINT}")


def read_wordnet(data_dir: str | Path | None) -> list[Synset]:
    """Every synset of the four data files, in file order (noun, verb, adj, adv)."""
    base = check_wordnet_dir(data_dir)
    synsets = []
    for pos, name in DATA_FILES.items():
        for offset, line in _lines(base / name):
            synsets.append(_parse_line(line, pos, base / name, offset))
    return synsets


# ------------------------------------------------------------------------------- path similarity


class HypernymGraph:
    """Shortest paths through hypernyms, as NLTK's ``Synset.path_similarity`` computes them.

    ``path_similarity(a, b) = 1 / (1 + d)`` with ``d = min over common ancestors c of d(a, c) + d(b, c)``,
    each ``d(x, c)`` the fewest ``@``/``@i`` steps from x up to c (a synset is its own ancestor at 0).
    Verbs have no single root, so, as NLTK does by default, each verb gets a simulated root one step
    above its farthest ancestor. Synsets of different parts of speech (and adjectives/adverbs, which
    have no hypernyms, unless identical) share no ancestor: similarity ``None``.
    """

    ROOT = "*ROOT*"

    def __init__(self, synsets: Sequence[Synset]) -> None:
        self.parents = {s.key: s.hypernyms for s in synsets}
        self.pos = {s.key: s.pos for s in synsets}
        self._cache: dict[str, dict[str, int]] = {}

    def ancestors(self, key: str) -> dict[str, int]:
        """Ancestor → fewest hypernym steps (breadth-first), the synset itself at 0, verbs with the simulated root."""
        if key not in self._cache:
            dist, frontier = {key: 0}, [key]
            while frontier:
                nxt = []
                for k in frontier:
                    for p in self.parents.get(k, ()):
                        if p not in dist:
                            dist[p] = dist[k] + 1
                            nxt.append(p)
                frontier = nxt
            if self.pos.get(key) == "v":
                dist[self.ROOT] = max(dist.values()) + 1
            self._cache[key] = dist
        return self._cache[key]

    def path_length(self, a: str, b: str) -> int | None:
        if a == b:
            return 0
        if self.pos.get(a) != self.pos.get(b):
            return None
        da, db = self.ancestors(a), self.ancestors(b)
        common = da.keys() & db.keys()
        return min(da[c] + db[c] for c in common) if common else None

    def path_similarity(self, a: str, b: str) -> float | None:
        d = self.path_length(a, b)
        return None if d is None else 1.0 / (1.0 + d)


def relatedness_pairs(keys: Sequence[str], graph: HypernymGraph, num_pairs: int = 2000,
                      seed: int = 0) -> list[tuple[int, int]]:
    """A fixed set of index pairs into ``keys`` (nouns and verbs) with a spread of path similarities.

    Random pairs of synsets almost all sit 8–16 steps apart; like STS, which mixes related and unrelated
    sentence pairs, half of the pairs are *near*: the second synset is found by climbing one or two
    hypernym steps from the first and descending one or two steps again (both ends in ``keys``); the
    other half pair two synsets of the same part of speech drawn at random. Deterministic in ``seed``.
    """
    rng = np.random.default_rng(seed)
    index = {k: i for i, k in enumerate(keys)}
    candidates = [i for i, k in enumerate(keys) if graph.pos.get(k) in ("n", "v") and graph.parents.get(k)]
    if len(candidates) < 2:
        return []
    children: dict[str, list[str]] = {}
    for k, parents in graph.parents.items():
        for p in parents:
            children.setdefault(p, []).append(k)
    by_pos = {pos: [i for i in candidates if graph.pos[keys[i]] == pos] for pos in ("n", "v")}
    pairs: set[tuple[int, int]] = set()
    tries = 0
    while len(pairs) < num_pairs and tries < 20 * num_pairs:
        tries += 1
        a = int(candidates[rng.integers(len(candidates))])
        if len(pairs) % 2 == 0:  # near: up 1-2 steps, down 1-2 steps
            node = keys[a]
            for _ in range(int(rng.integers(1, 3))):
                up = graph.parents.get(node, ())
                if not up:
                    break
                node = up[int(rng.integers(len(up)))]
            for _ in range(int(rng.integers(1, 3))):
                down = children.get(node, [])
                if not down:
                    break
                node = down[int(rng.integers(len(down)))]
            b = index.get(node)
        else:
            pool = by_pos[graph.pos[keys[a]]]
            b = int(pool[rng.integers(len(pool))])
        if b is None or b == a or graph.path_length(keys[a], keys[b]) is None:
            continue
        pairs.add((min(a, b), max(a, b)))
    return sorted(pairs)


# ------------------------------------------------------------------------------------ tokenizer


def train_tokenizer(sentences: Sequence[str], vocab_size: int = 8000, min_frequency: int = 2,
                    suffix_share: float = 0.1) -> Any:
    """A WordPiece tokenizer (``tokenizers``) whose vocabulary is counted from ``sentences``; ``[PAD]`` = 0, ``[UNK]`` = 1.

    Text is lower-cased with accents stripped (BERT's normaliser) and split on whitespace and
    punctuation (BERT's pre-tokeniser). The vocabulary: the special tokens, every character seen
    (alone and as a ``##`` continuation, so nothing but unseen characters is unknown), the most
    frequent word endings of 2–4 characters as ``##`` pieces (``suffix_share`` of the rest), then
    the most frequent words (at least ``min_frequency`` occurrences), ties broken alphabetically.
    WordPiece's greedy longest match then splits an unknown word into a known word and endings
    (``hunts`` → ``hunt ##s``).

    We count instead of calling the library's ``WordPieceTrainer`` because that trainer is not
    deterministic: two trainings on the same 20,000 definitions gave different vocabularies (its
    ties are broken in hash-map order), and a checkpoint's data must reload with the same ids.
    """
    from collections import Counter

    from tokenizers import Tokenizer, decoders, models, normalizers, pre_tokenizers

    normalizer = normalizers.BertNormalizer(lowercase=True, strip_accents=True, clean_text=True)
    pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    counts: Counter[str] = Counter()
    for sentence in sentences:
        counts.update(w for w, _ in pre_tokenizer.pre_tokenize_str(normalizer.normalize_str(sentence)))
    chars = sorted({c for w in counts for c in w})
    pieces = [PAD, UNK] + chars + ["##" + c for c in chars]
    if len(pieces) > vocab_size:
        raise ValueError(f"`vocab_size` {vocab_size} is smaller than the {len(pieces)} special and character pieces")
    by_count = lambda c: sorted(c.items(), key=lambda kv: (-kv[1], kv[0]))  # noqa: E731 — deterministic order
    suffixes: Counter[str] = Counter()
    for word, count in counts.items():
        for k in (2, 3, 4):
            if len(word) > k:
                suffixes["##" + word[-k:]] += count
    budget = vocab_size - len(pieces)
    pieces += [p for p, c in by_count(suffixes) if c >= min_frequency][:int(budget * suffix_share)]
    known = set(pieces)
    words = [w for w, c in by_count(counts) if c >= min_frequency and w not in known]
    pieces += words[:vocab_size - len(pieces)]
    tok = Tokenizer(models.WordPiece({p: i for i, p in enumerate(pieces)}, unk_token=UNK, max_input_chars_per_word=100))
    tok.normalizer, tok.pre_tokenizer, tok.decoder = normalizer, pre_tokenizer, decoders.WordPiece()
    return tok


def encode(tokenizer: Any, sentences: Sequence[str], max_length: int) -> Tensor:
    """int32 ``[N, max_length]`` token ids, cut at ``max_length`` and padded with 0 (empty sentence: all 0)."""
    out = torch.zeros(len(sentences), max_length, dtype=torch.int32)
    for i, enc in enumerate(tokenizer.encode_batch(list(sentences))):
        ids = enc.ids[:max_length]
        out[i, :len(ids)] = torch.tensor(ids, dtype=torch.int32)
    return out


# -------------------------------------------------------------------------------------- views


VIEWS = ("dropout", "definition_example", "lemma_definition")
ROWS = {"definition": 0, "example": 1, "lemmas": 2}  # the rows of a synset's [3, L] token ids


class TextViews(torch.nn.Module):
    """The two views of a batch of ``[N, 3, L]`` (definition, example, lemmas) token ids.

    ``dropout`` (SimCSE, default): both views are the definition itself; they differ only by the
    encoder's dropout, because the method encodes the two copies in one train-mode pass with
    independent dropout masks. ``definition_example``: the definition and its first example
    sentence (a natural paraphrase pair); a synset without an example falls back to its definition
    twice (a dropout pair). ``lemma_definition``: the synset's own words (``dog, domestic dog,
    Canis familiaris``) and its definition, a dictionary entry's headword and gloss: every synset
    has both, and neither is a WordNet pointer or the lexicographer number, so nothing the
    evaluation reads (hypernym paths, categories) enters training. Text has no random augmentation,
    so the generator is not used.
    """

    def __init__(self, views: str = "dropout") -> None:
        super().__init__()
        if views not in VIEWS:
            raise ValueError(f"`views` must be one of {VIEWS}, got {views!r}")
        self.views = views

    def _check(self, x: Tensor) -> None:
        rows = 3 if self.views == "lemma_definition" else 2  # a [N, 2, L] tensor (no lemma row) serves the others
        if x.dim() != 3 or x.shape[1] < rows or x.is_floating_point():
            raise ValueError(f"TextViews({self.views!r}) expects integer token ids [N, {rows}+, L] (definition, "
                             f"example, lemmas), got {x.dtype} {tuple(x.shape)}")

    def forward(self, x: Tensor, generator: torch.Generator | None = None) -> Tensor:
        """One view: the definitions (the identity of the sentence; dropout makes the difference)."""
        self._check(x)
        return x[:, 0]

    def pair(self, x: Tensor, generator: torch.Generator | None = None) -> tuple[Tensor, Tensor]:
        """Both views at once (what :meth:`ContrastiveMethod.views` calls when it exists)."""
        self._check(x)
        if self.views == "dropout":
            return x[:, 0], x[:, 0]
        if self.views == "lemma_definition":
            return x[:, ROWS["lemmas"]], x[:, 0]
        has_example = (x[:, 1] != 0).any(1, keepdim=True)
        return x[:, 0], torch.where(has_example, x[:, 1], x[:, 0])


# -------------------------------------------------------------------------------------- dataset


@dataclass(frozen=True)
class TextSplits(DatasetSplits):
    """:class:`DatasetSplits` of token ids ``[N, 3, L]`` with what the text evaluation needs besides.

    Attributes:
        texts_train, texts_test: the definitions (what TF-IDF and the encoder see at evaluation).
        keys_train, keys_test: synset keys ``"<pos>:<offset>"``.
        graph: hypernym graph of the whole WordNet (path similarity).
        pairs: fixed index pairs into the test split for the relatedness evaluation.
        vocab_size: size of the trained tokenizer's vocabulary.
        tokenizer: the trained ``tokenizers.Tokenizer``.
        cache: results that depend on the data alone (the TF-IDF baseline), filled by the evaluation.
        default_encoder: the encoder ``pretrain`` uses when none is named.
        probe_C: the linear probes' regularisation is chosen on held-out labelled glosses from this grid
            (every feature set the same way; TF-IDF from its own grid, :data:`infobound.eval.text.TFIDF_C_GRID`).
    """

    texts_train: tuple[str, ...] = ()
    texts_test: tuple[str, ...] = ()
    keys_train: tuple[str, ...] = ()
    keys_test: tuple[str, ...] = ()
    graph: HypernymGraph | None = field(default=None, repr=False)
    pairs: tuple[tuple[int, int], ...] = ()
    vocab_size: int = 0
    tokenizer: Any = field(default=None, repr=False)
    cache: dict = field(default_factory=dict, repr=False, compare=False)  # evaluation baselines, computed once
    default_encoder: str = "text_transformer"
    probe_C: float | tuple[float, ...] = (0.01, 0.03, 0.1, 0.3, 1.0, 3.0)


def load_wordnet(data_dir: str | Path | None = None, seed: int = 0, num_train: int | None = None,
                 num_test: int | None = 5000, test_fraction: float = 0.2, max_length: int = 64,
                 vocab_size: int = 8000, num_pairs: int = 2000, num_labelled: int | None = None) -> TextSplits:
    """WordNet 3.0 glosses: token ids of (definition, first example, lemmas) per synset, label = lexicographer category.

    The 117,659 synsets are split stratified by category (``test_fraction`` to test, seed ``seed``);
    ``num_train`` / ``num_test`` then keep a stratified subset of each side (None: all). The tokenizer
    is trained on the kept training synsets' texts (definitions, examples and lemma lines) only.

    Args:
        data_dir: the directory of data.noun, data.verb, data.adj, data.adv (Debian: /usr/share/wordnet).
        seed: split, subsets and relatedness pairs.
        num_train: training synsets kept (None: all ≈ 94k).
        num_test: test synsets kept (None: all ≈ 23.5k).
        test_fraction: share of the synsets held out for testing before subsetting.
        max_length: tokens per sentence (longer ones are cut).
        vocab_size: WordPiece vocabulary size.
        num_pairs: synset pairs of the relatedness evaluation (within the test split).
        num_labelled: the semi-supervised protocol (:class:`~infobound.data.datasets.DatasetSplits`'s
            ``labelled``): pre-train on all kept training glosses, fit the probes and the TF-IDF
            baseline on this many of them only — the stratified subset that ``num_train=num_labelled``
            would keep, so the probes see the same labelled glosses either way (None, or at least the
            glosses kept: all labelled, as ``num_train`` keeps all when it exceeds them).
    """
    from sklearn.model_selection import train_test_split

    if max_length < 2 or vocab_size < 100 or num_pairs < 0:
        raise ValueError(f"need max_length >= 2, vocab_size >= 100, num_pairs >= 0; got {max_length}, {vocab_size}, "
                         f"{num_pairs}")
    synsets = [s for s in read_wordnet(data_dir) if s.definition]
    labels = np.array([s.lexname for s in synsets])

    def strata(lab: np.ndarray) -> np.ndarray | None:
        # a class with a single member (only in tiny files) cannot be stratified
        return lab if np.all(np.bincount(lab)[lab] >= 2) else None

    if not 0.0 < test_fraction < 1.0:
        raise ValueError(f"`test_fraction` must lie in (0, 1), got {test_fraction}")
    idx_train, idx_test = train_test_split(np.arange(len(synsets)), test_size=test_fraction, random_state=seed,
                                           stratify=strata(labels))

    def subset(idx: np.ndarray, size: int | None, what: str) -> np.ndarray:
        if size is None or size >= len(idx):
            return np.sort(idx)
        if size < 1:
            raise ValueError(f"`{what}` must be >= 1, got {size}")
        lab = labels[idx]
        kept, _ = train_test_split(idx, train_size=size, random_state=seed,
                                   stratify=strata(lab) if size >= len(set(lab)) else None)
        return np.sort(kept)

    kept_train = subset(idx_train, num_train, "num_train")
    labelled_keys = None
    if num_labelled is not None and num_labelled < len(kept_train):  # at or above: all kept glosses are labelled
        # drawn as num_train=num_labelled would draw them (from the unsorted split) when all glosses are kept
        source = idx_train if len(kept_train) == len(idx_train) else kept_train
        labelled_keys = {synsets[i].key for i in subset(source, num_labelled, "num_labelled")}
    idx_train, idx_test = kept_train, subset(idx_test, num_test, "num_test")
    train, test = [synsets[i] for i in idx_train], [synsets[i] for i in idx_test]
    tokenizer = train_tokenizer([s.definition for s in train] + [e for s in train for e in s.examples]
                                + [s.lemma_text for s in train], vocab_size)

    def tensor(part: list[Synset]) -> Tensor:
        defs = encode(tokenizer, [s.definition for s in part], max_length)
        exs = encode(tokenizer, [s.examples[0] if s.examples else "" for s in part], max_length)
        lemmas = encode(tokenizer, [s.lemma_text for s in part], max_length)
        return torch.stack([defs, exs, lemmas], dim=1)

    labelled = None
    if labelled_keys is not None:
        labelled = torch.as_tensor([i for i, s in enumerate(train) if s.key in labelled_keys], dtype=torch.int64)
    graph = HypernymGraph(synsets)
    keys_test = tuple(s.key for s in test)
    return TextSplits(
        x_train=tensor(train), y_train=torch.as_tensor(labels[idx_train]), x_test=tensor(test),
        y_test=torch.as_tensor(labels[idx_test]), num_classes=len(LEXNAMES), name="wordnet",
        texts_train=tuple(s.definition for s in train), texts_test=tuple(s.definition for s in test),
        keys_train=tuple(s.key for s in train), keys_test=keys_test, graph=graph,
        pairs=tuple(relatedness_pairs(keys_test, graph, num_pairs, seed)), vocab_size=tokenizer.get_vocab_size(),
        tokenizer=tokenizer, labelled=labelled)


__all__ = ["LEXNAMES", "ROWS", "VIEWS", "HypernymGraph", "Synset", "TextSplits", "TextViews", "check_wordnet_dir", "encode", "load_wordnet",
           "read_wordnet", "relatedness_pairs", "split_gloss", "train_tokenizer"]
