"""The WordNet reader, gloss splitting, path similarity, tokenised dataset and text views."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from infobound.data import load_dataset
from infobound.data.wordnet import (LEXNAMES, HypernymGraph, TextViews, check_wordnet_dir, load_wordnet, read_wordnet,
                                    relatedness_pairs, split_gloss)

from wordnet_fixture import SMALL, write_wordnet

DEBIAN = Path("/usr/share/wordnet")


def test_lexnames_are_the_45_fixed_names():
    assert len(LEXNAMES) == 45 and len(set(LEXNAMES)) == 45
    # spot checks against lexnames(5WN)
    assert (LEXNAMES[0], LEXNAMES[3], LEXNAMES[5], LEXNAMES[29], LEXNAMES[38], LEXNAMES[44]) == (
        "adj.all", "noun.Tops", "noun.animal", "verb.body", "verb.motion", "adj.ppl")


@pytest.mark.parametrize("gloss, definition, examples", [
    ("change location", "change location", ()),
    ('use one\'s feet to advance; "we walked home"', "use one's feet to advance", ("we walked home",)),
    ('a carnivore; kept as a pet; "the dog barked"; "a dog\'s life"', "a carnivore; kept as a pet",
     ("the dog barked", "a dog's life")),
    # a ';' inside the quotes does not split, the attribution after the closing quote is dropped
    ('a tree; "the oak; a symbol" - old saying', "a tree", ("the oak; a symbol",)),
    ('the letter "a" as a sound', 'the letter "a" as a sound', ()),
])
def test_split_gloss(gloss, definition, examples):
    assert split_gloss(gloss) == (definition, examples)


def test_reads_the_fixture(tiny_wordnet):
    root, keys = tiny_wordnet
    synsets = {s.key: s for s in read_wordnet(root)}
    assert len(synsets) == len(SMALL)
    dog = synsets[keys["dog"]]
    assert dog.pos == "n" and LEXNAMES[dog.lexname] == "noun.animal" and dog.words == ("dog", "domestic_dog")
    assert dog.definition == "a domestic carnivore that barks; kept as a pet"
    assert dog.examples == ("the dog barked all night", "a dog's life")
    assert dog.hypernyms == (keys["carnivore"],)
    assert synsets[keys["paris"]].hypernyms == (keys["city"],)  # instance hypernym @i
    walk = synsets[keys["walk"]]
    assert walk.pos == "v" and LEXNAMES[walk.lexname] == "verb.motion" and walk.examples == ("we walked home",)
    assert synsets[keys["quickly"]].pos == "r"
    assert dog.lemma_text == "dog, domestic dog"  # the headword line of the lemma_definition views


def test_offset_that_is_not_the_byte_position_is_an_error(tiny_wordnet):
    root, _ = tiny_wordnet
    data = (root / "data.verb").read_text().splitlines(keepends=True)
    data[3] = data[3].replace(data[3][:8], "%08d" % (int(data[3][:8]) + 1), 1)
    (root / "data.verb").write_text("".join(data))
    with pytest.raises(ValueError, match="byte offset"):
        read_wordnet(root)


def test_missing_files_name_the_package(tmp_path):
    with pytest.raises(FileNotFoundError, match="wordnet-base"):
        check_wordnet_dir(tmp_path)
    with pytest.raises(FileNotFoundError, match="wordnet-base"):
        load_dataset("wordnet", data_dir=None)
    (tmp_path / "data.noun").write_text("")
    with pytest.raises(FileNotFoundError, match="data.verb.*wordnet-base"):
        load_dataset("wordnet", data_dir=tmp_path)


def test_path_similarity_by_hand(tiny_wordnet):
    root, k = tiny_wordnet
    graph = HypernymGraph(read_wordnet(root))
    assert graph.path_similarity(k["dog"], k["cat"]) == pytest.approx(1 / 3)  # dog-carnivore-cat
    assert graph.path_similarity(k["dog"], k["oak"]) == pytest.approx(1 / 7)  # 3 up + 3 down through entity
    assert graph.path_similarity(k["dog"], k["animal"]) == pytest.approx(1 / 3)
    assert graph.path_similarity(k["paris"], k["entity"]) == pytest.approx(1 / 3)  # via the instance hypernym
    assert graph.path_similarity(k["dog"], k["dog"]) == 1.0
    assert graph.path_similarity(k["walk"], k["run"]) == pytest.approx(1 / 3)
    # verbs without a common ancestor meet at NLTK's simulated root: walk-move-ROOT-think-reason
    assert graph.path_similarity(k["walk"], k["reason"]) == pytest.approx(1 / 5)
    assert graph.path_similarity(k["move"], k["think"]) == pytest.approx(1 / 3)
    assert graph.path_similarity(k["dog"], k["walk"]) is None  # different parts of speech
    assert graph.path_similarity(k["big"], k["small"]) is None  # adjectives have no hypernyms


@pytest.mark.slow
@pytest.mark.skipif(not (DEBIAN / "data.noun").is_file(), reason="Debian wordnet-base not installed")
def test_real_wordnet_counts_and_nltk_documented_similarities():
    synsets = read_wordnet(DEBIAN)
    assert len(synsets) == 117659  # WordNet 3.0
    assert len({s.lexname for s in synsets}) == 45
    graph = HypernymGraph(synsets)
    # NLTK's WordNet HOWTO: dog.n.01.path_similarity(cat.n.01) = 0.2, hit.v.01 vs slap.v.01 = 1/7
    assert graph.path_similarity("n:02084071", "n:02121620") == pytest.approx(0.2)
    assert graph.path_similarity("v:01405062", "v:01416889") == pytest.approx(1 / 7)


def test_relatedness_pairs_are_fixed_and_valid(corpus_wordnet):
    synsets = read_wordnet(corpus_wordnet)
    graph = HypernymGraph(synsets)
    keys = [s.key for s in synsets]
    pairs = relatedness_pairs(keys, graph, num_pairs=40, seed=3)
    assert pairs == relatedness_pairs(keys, graph, num_pairs=40, seed=3)
    assert len(pairs) == 40 and len(set(pairs)) == 40
    sims = [graph.path_similarity(keys[a], keys[b]) for a, b in pairs]
    assert all(s is not None and 0 < s < 1 for s in sims)
    assert max(sims) >= 1 / 3 and min(sims) <= 1 / 5  # near and far pairs both present


def test_load_wordnet_tensors_labels_and_determinism(corpus_wordnet):
    splits = load_wordnet(corpus_wordnet, seed=1, num_test=None, max_length=40, vocab_size=150, num_pairs=10)
    assert splits.name == "wordnet" and splits.num_classes == 45
    assert splits.x_train.shape[1:] == (3, 40) and splits.x_train.dtype == torch.int32
    assert len(splits.x_train) + len(splits.x_test) == 100 and len(splits.x_test) == 20
    assert set(splits.y_train.tolist()) == {5, 20, 31, 38}
    synsets = {s.key: s for s in read_wordnet(corpus_wordnet)}
    for i, key in enumerate(splits.keys_train):
        s = synsets[key]
        assert splits.y_train[i] == s.lexname and splits.texts_train[i] == s.definition
        ids = splits.x_train[i]
        decoded = splits.tokenizer.decode([t for t in ids[0].tolist() if t])
        assert decoded == s.definition.lower()
        assert bool((ids[1] != 0).any()) == bool(s.examples)  # an empty example row is all padding
        assert splits.tokenizer.decode([t for t in ids[2].tolist() if t]) == " , ".join(w.replace("_", " ") for w in s.words).lower()
    again = load_wordnet(corpus_wordnet, seed=1, num_test=None, max_length=40, vocab_size=150, num_pairs=10)
    assert torch.equal(again.x_train, splits.x_train) and torch.equal(again.x_test, splits.x_test)
    assert again.pairs == splits.pairs
    small = load_wordnet(corpus_wordnet, seed=1, num_train=40, num_test=8, max_length=40, vocab_size=150)
    assert len(small.x_train) == 40 and len(small.x_test) == 8
    assert sorted(torch.bincount(small.y_train, minlength=45)[[5, 20, 31, 38]].tolist()) == [10, 10, 10, 10]


def test_text_views():
    # two synsets, rows (definition, example, lemmas)
    x = torch.tensor([[[5, 6, 0], [7, 8, 9], [4, 0, 0]], [[3, 0, 0], [0, 0, 0], [2, 11, 0]]], dtype=torch.int32)
    v1, v2 = TextViews("dropout").pair(x)
    assert torch.equal(v1, x[:, 0]) and torch.equal(v2, x[:, 0])
    v1, v2 = TextViews("definition_example").pair(x)
    assert torch.equal(v1, x[:, 0])
    assert v2.tolist() == [[7, 8, 9], [3, 0, 0]]  # the second synset has no example: its definition again
    v1, v2 = TextViews("lemma_definition").pair(x)
    assert v1.tolist() == [[4, 0, 0], [2, 11, 0]] and v2.tolist() == [[5, 6, 0], [3, 0, 0]]
    assert torch.equal(TextViews("definition_example").pair(x[:, :2])[1], v2.new_tensor([[7, 8, 9], [3, 0, 0]]))
    with pytest.raises(ValueError, match="views"):
        TextViews("crop")
    with pytest.raises(ValueError, match=r"\[N, 2\+, L\]"):
        TextViews().pair(torch.zeros(2, 3, dtype=torch.int32))
    with pytest.raises(ValueError, match=r"lemma_definition.*\[N, 3\+, L\]"):  # no lemma row
        TextViews("lemma_definition").pair(x[:, :2])


@pytest.mark.parametrize("words, line", [
    (("dog", "domestic_dog", "Canis_familiaris"), "dog, domestic dog, Canis familiaris"),
    (("galore(ip)", "in_abundance(p)", "big(a)"), "galore, in abundance, big"),  # wndb(5WN) adjective markers
    (("A(a)", "vitamin_A"), "A, vitamin A"),
])
def test_lemma_text(words, line):
    from infobound.data.wordnet import Synset

    assert Synset("n:00000001", "n", 5, words, "d", (), ()).lemma_text == line


def test_write_fixture_offsets_point_at_lines(tmp_path):
    keys = write_wordnet(tmp_path, SMALL)
    raw = (tmp_path / "data.noun").read_bytes()
    offset = int(keys["dog"].split(":")[1])
    assert raw[offset:offset + 8] == keys["dog"].split(":")[1].encode()


def test_num_labelled_keeps_every_gloss_for_training_and_labels_the_num_train_subset(corpus_wordnet):
    """The semi-supervised protocol: all training glosses stay (pre-training sees them), and the labelled ones
    are exactly the glosses ``num_train=num_labelled`` keeps, so the probes and the TF-IDF baseline see the
    same labelled glosses in both protocols."""
    common = dict(seed=1, num_test=8, max_length=40, vocab_size=150)
    semi = load_wordnet(corpus_wordnet, num_labelled=40, **common)
    small = load_wordnet(corpus_wordnet, num_train=40, **common)
    full = load_wordnet(corpus_wordnet, **common)
    assert semi.keys_train == full.keys_train and len(semi.x_train) == 80
    labelled_keys = [semi.keys_train[i] for i in semi.labelled.tolist()]
    assert sorted(labelled_keys) == sorted(small.keys_train)
    x, y = semi.labelled_train()
    assert len(x) == 40 and torch.equal(y, semi.y_train[semi.labelled])
    assert full.labelled is None
    assert load_wordnet(corpus_wordnet, num_train=30, num_labelled=40, **common).labelled is None  # all labelled
    with pytest.raises(ValueError, match="num_labelled"):
        load_wordnet(corpus_wordnet, num_labelled=0, **common)
    inner = load_wordnet(corpus_wordnet, num_train=60, num_labelled=20, **common)
    assert len(inner.labelled) == 20 and len(inner.x_train) == 60
