"""A tiny WordNet written in the wndb(5WN) data-file format, with correct byte offsets."""

from __future__ import annotations

from pathlib import Path

HEADER = "  1 This software and database is being provided to you, the LICENSEE, by  \n  2 Princeton University.  \n"
FILES = {"n": "data.noun", "v": "data.verb", "a": "data.adj", "r": "data.adv"}

# name: (pos, lex_filenum, words, hypernym names (instance hypernyms prefixed with "i:"), gloss)
SMALL = {
    "entity": ("n", 3, ["entity"], [], "that which is perceived or known to exist"),
    "animal": ("n", 5, ["animal", "beast"], ["entity"], 'a living organism that moves; "animals eat food"'),
    "carnivore": ("n", 5, ["carnivore"], ["animal"], "a flesh-eating animal"),
    "dog": ("n", 5, ["dog", "domestic_dog"], ["carnivore"],
            'a domestic carnivore that barks; kept as a pet; "the dog barked all night"; "a dog\'s life"'),
    "cat": ("n", 5, ["cat"], ["carnivore"], "a small carnivore that purrs"),
    "plant": ("n", 20, ["plant"], ["entity"], "a living organism without the power of locomotion"),
    "tree": ("n", 20, ["tree"], ["plant"], "a tall perennial woody plant"),
    "oak": ("n", 20, ["oak"], ["tree"], 'a tree bearing acorns; "the oak; a symbol of strength" - old saying'),
    "city": ("n", 15, ["city"], ["entity"], "a large and densely populated urban area"),
    "paris": ("n", 15, ["Paris"], ["i:city"], "the capital and largest city of France"),
    "move": ("v", 38, ["move"], [], "change location"),
    "walk": ("v", 38, ["walk"], ["move"], 'use one\'s feet to advance; "we walked home"'),
    "run": ("v", 38, ["run"], ["move"], "move fast by using one's feet"),
    "think": ("v", 31, ["think"], [], "use the mind"),
    "reason": ("v", 31, ["reason"], ["think"], "decide by reasoning"),
    "big": ("a", 0, ["big", "large"], [], 'above average in size; "a big house"'),
    "small": ("a", 0, ["small"], [], "limited in size"),
    "quickly": ("r", 2, ["quickly"], [], "with speed"),
}


def _line(offset: int, pos: str, lexname: int, words: list[str], pointers: list[tuple[str, int, str]],
          gloss: str, frames: bool) -> str:
    ss_type = "a" if pos == "a" else pos
    fields = [f"{offset:08d}", f"{lexname:02d}", ss_type, f"{len(words):02x}"]
    for w in words:
        fields += [w, "0"]
    fields.append(f"{len(pointers):03d}")
    for symbol, target, target_pos in pointers:
        fields += [symbol, f"{target:08d}", target_pos, "0000"]
    if frames:
        fields += ["01", "+", "02", "00"]  # one verb frame, as verb lines carry
    return " ".join(fields) + f" | {gloss}  \n"


def write_wordnet(root: Path, synsets: dict[str, tuple]) -> dict[str, str]:
    """Write data.noun/verb/adj/adv under ``root``; returns name → key ("<pos>:<offset>").

    Every pointer field is 8 digits wide, so each line's length does not depend on the offsets: a first
    pass with placeholder offsets gives the byte offsets, a second writes them.
    """
    root.mkdir(parents=True, exist_ok=True)
    offsets: dict[str, int] = {}
    for pos, fname in FILES.items():
        names = [n for n, s in synsets.items() if s[0] == pos]
        position = len(HEADER.encode())
        for n in names:
            offsets[n] = position
            p, lex, words, hyper, gloss = synsets[n]
            dummy = [("@i" if h.startswith("i:") else "@", 0, pos) for h in hyper]
            position += len(_line(0, p, lex, words, dummy, gloss, p == "v").encode())
    for pos, fname in FILES.items():
        text = HEADER
        for n, (p, lex, words, hyper, gloss) in synsets.items():
            if p != pos:
                continue
            pointers = []
            for h in hyper:
                target = h[2:] if h.startswith("i:") else h
                pointers.append(("@i" if h.startswith("i:") else "@", offsets[target], synsets[target][0]))
            text += _line(offsets[n], p, lex, words, pointers, gloss, p == "v")
        (root / fname).write_bytes(text.encode())
    return {n: f"{synsets[n][0]}:{offsets[n]:08d}" for n in synsets}


# a larger corpus for end-to-end runs: 4 categories with their own vocabulary, 24 synsets each
TOPICS = {
    5: ("n", ["fur", "paws", "tail", "hunts", "barks", "wild", "mammal", "bird", "feathers", "claws"]),
    20: ("n", ["leaves", "roots", "flowers", "grows", "seeds", "bark", "green", "shrub", "stem", "blossom"]),
    38: ("v", ["travel", "quickly", "feet", "across", "forward", "path", "direction", "speed", "slowly", "journey"]),
    31: ("v", ["mind", "believe", "consider", "judge", "idea", "reason", "decide", "plan", "doubt", "conclude"]),
}


def corpus_synsets(per_topic: int = 24) -> dict[str, tuple]:
    synsets: dict[str, tuple] = {}
    for lex, (pos, words) in TOPICS.items():
        root = f"root{lex}"
        synsets[root] = (pos, lex, [root], [], f"{words[0]} and {words[1]} in general")
        for i in range(per_topic):
            parent = root if i < 6 else f"s{lex}_{i % 6}"
            picks = [words[(i * 3 + k) % len(words)] for k in range(4)]
            gloss = f"{picks[0]} with {picks[1]} or {picks[2]} {picks[3]}"
            if i % 2:
                gloss += f'; "the {picks[1]} {picks[3]} example"'
            synsets[f"s{lex}_{i}"] = (pos, lex, [f"w{lex}_{i}"], [parent], gloss)
    return synsets
