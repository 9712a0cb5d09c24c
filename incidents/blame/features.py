"""What the blame model sees in a sentence: words, word classes, their pairs, rule signals.

One function, `features`, shared by training and by the guard, so the two can never drift.
Every step is a single pass over the sentence (one linear regex, dictionary look-ups).
"""

from __future__ import annotations

import re
from functools import lru_cache

from incidents.blame import lexicon

# A word (with inner apostrophes or hyphens: "didn't", "on-call"), an @mention or a
# Google-style "name@", a number, or a question/exclamation mark. Each repeated group starts
# with a character the group before cannot match, so the pattern never backtracks.
TOKEN = re.compile(r"@[\w.-]+|[A-Za-z]+(?:['’\-][A-Za-z]+)*@?|\d+|[?!]")

SKIP_WINDOW = 6
CLASSES = (
    ("_role_", lexicon.ROLES),
    ("_he_", lexicon.HE),
    ("_me_", lexicon.ME),
    ("_you_", lexicon.YOU),
    ("_judge_", lexicon.JUDGE),
    ("_punish_", lexicon.PUNISH),
    ("_act_", lexicon.ACT),
    ("_neg_", lexicon.REJECT),
    ("_sys_", lexicon.SYSTEMS),
)


def words(sentence: str) -> list[tuple[str, str]]:
    """Each token as (lower-case word, class): the class is a lexicon's name or the word."""
    out = []
    for index, match in enumerate(TOKEN.finditer(sentence)):
        token = match.group(0).replace("’", "'")
        lower = token.lower()
        out.append((lower, _class(token, lower, initial=index == 0)))
    return out


# The first lexicon that holds a word names its class (roles before systems, and so on).
_CLASS_OF = {}
for _name, _members in reversed(CLASSES):
    _CLASS_OF.update(dict.fromkeys(_members, _name))


def _class(token: str, lower: str, *, initial: bool) -> str:
    if token.startswith("@") or token.endswith("@"):
        return "_name_"
    base = lower[:-2] if lower.endswith("'s") else lower
    found = _CLASS_OF.get(base)
    if found:
        return found
    if base in lexicon.FIRST_NAMES:
        return "_name_"
    if (not initial and token[0].isupper() and not token.isupper()
            and base not in lexicon.COMMON_CAPITALISED):
        return "_cap_"
    return lower


@lru_cache(maxsize=20_000)
def _char_grams(word: str) -> frozenset[str]:
    padded = f"<{word}>"
    return frozenset("g:" + padded[i:i + n] for n in (3, 4, 5)
                     for i in range(min(len(padded) - n + 1, 40)))


def features(sentence: str, signals: frozenset[str] = frozenset()) -> set[str]:
    """The sentence's features as strings (binary: present or not)."""
    seq = words(sentence)
    found = {f"r:{name}" for name in signals}
    if not seq:
        return found
    lowers = [w for w, _ in seq]
    classes = [c for _, c in seq]
    found.update(f"w:{w}" for w in lowers)
    found.update(f"c:{c}" for c in classes if c.startswith("_"))
    found.add(f"first:{classes[0]}")
    for a, b in zip(classes, classes[1:], strict=False):
        found.add(f"b:{a} {b}")
    # Pairs of word classes a few words apart: "the pilots of the aircraft failed" still
    # pairs a role with a failure word, and a negation shortly before it is remembered.
    for i, a in enumerate(classes):
        if not a.startswith("_"):
            continue
        for j in range(i + 1, min(i + SKIP_WINDOW, len(classes))):
            b = classes[j]
            if b.startswith("_"):
                found.add(f"s:{a} {b}")
    if lowers[-1] == "?":
        found.add("q:" + classes[0])
    for w in set(lowers):
        found |= _char_grams(w)
    return found
