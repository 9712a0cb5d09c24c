"""The guard's rules: phrasings that blame a person so plainly that a pattern can say so.

Each rule is high-precision on its own, runs on one sentence at a time, and is linear in the
sentence's length: no pattern has an unbounded repetition that can restart at every position
(the owner of "'s fault" is read backwards by a bounded look, not by `[\\w-]+` before it).
What the rules cannot reach is left to the model (`model.py`); their hits are also features
the model was trained with.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from incidents.blame import lexicon


@dataclass(frozen=True)
class Rule:
    name: str
    label: str  # the rule's plain name, shown beside the phrase
    reason: str  # why the phrase reads as blame, in plain words
    question: str  # the systemic question to ask instead


RULES = {rule.name: rule for rule in [
    Rule("human_error", "“Human error” as a cause",
         "names human, operator or user error as the cause",
         "“Human error” ends the inquiry. What about the system made this action easy to get "
         "wrong, and which station could have caught it?"),
    Rule("hindsight", "Hindsight about a person",
         "judges what a person should have done, knowing the outcome",
         "That is hindsight. What would have had to be true for this to be obvious at the time "
         "— which check or signal was missing?"),
    Rule("person_failure", "A person as the subject of a failure",
         "makes a person or role the one who failed",
         "Ask what, not who: what let this through, and which station of the line should have "
         "stopped it?"),
    Rule("forgot", "Forgetting",
         "puts the failure on someone forgetting",
         "What would make this step impossible to forget — automation, a required check, a "
         "safe default?"),
    Rule("character", "A judgement of character",
         "judges a person's character or competence",
         "A judgement of character prevents nothing. What conditions (time pressure, tooling, "
         "unclear ownership) shaped this action?"),
    Rule("fault", "Fault put on a person",
         "says whose fault it was",
         "Fault points at a person. Which station should have caught the defect, and why did it "
         "not?"),
    Rule("mistake_by", "A mistake credited to a person",
         "credits the mistake or failure to a person",
         "Whose mistake it was does not matter next time. What made the mistake possible, and "
         "silent until production?"),
    Rule("blame_idiom", "A blaming idiom",
         "uses an idiom that blames a person",
         "This phrasing blames a person. What in the process or tooling let this happen, and "
         "how could the line catch it?"),
    Rule("blame_question", "A question aimed at a person",
         "asks who did it, or why a person did not",
         "Ask the question of the system: what made this the easy path, and what would have "
         "stopped it?"),
    Rule("punish", "Punishing or fixing the person",
         "answers the incident by punishing or correcting a person",
         "Sanctions and reminders fix nobody's next mistake. What change to the system makes "
         "this mistake impossible or loud?"),
    Rule("self_blame", "Self-blame",
         "blames the writer for the failure",
         "Owning it is generous, but what let your action through — which check or safeguard "
         "was missing?"),
    Rule("blame_frame", "Framing that blames",
         "frames the action as a person's defiance or habit",
         "The framing carries blame. What made the action look reasonable at the time?"),
    Rule("model", "Reads as blame",
         "the sentence reads as blame to the model, though no rule names why",
         "Does this sentence point at a person? If so, what in the system shaped what they did, "
         "and which station should have caught it?"),
]}
QUESTIONS = {name: rule.question for name, rule in RULES.items()}


@dataclass(frozen=True)
class Hit:
    """A rule's match inside one sentence: offsets are the sentence's."""

    start: int
    end: int
    rule: str


def _spaced(pattern: str) -> str:
    # Any run of whitespace (a line break in Markdown) between words still matches.
    return pattern.replace(" ", r"\s+")


_P = (r"(?:he|she|they|you|i|someone|somebody|the (?:[\w-]+ )?(?:engineer|operator|developer|"
      r"on-call|oncall|reviewer|pilot|crew|captain|driver|admin|intern|contractor|author|"
      r"technician|sre|dba|team lead)s?|@[\w.-]+|(?-i:[A-Z][a-z]+))")

# Phrases that only ever judge a person; `rejectable` ones are dropped in a sentence that
# rejects blame ("human error is not the root cause").
_PHRASES = [
    ("human_error", r"\b(?:human|operator|user|pilot|personnel|driver|crew)[-\s]+errors?\b", True),
    ("hindsight", r"\b(?:should|ought to)(?:'ve| have) (?:known|realised|realized|noticed|"
                  r"been (?:more )?(?:careful|aware|paying attention)|paid attention|"
                  r"double-checked|thought|asked|checked|looked|tested|waited|read)\b", True),
    ("hindsight", r"\bshould(?:n't| not)(?:'ve| have) (?:been|[a-z]+ed)\b", True),
    ("hindsight", rf"^(?:if only |if )?(?:{_P}) had (?:been paying attention|been (?:more )?"
                  r"careful|[a-z]+ed)\b[^.?!]{0,120}\bwould(?:n't| not)? have\b", True),
    ("hindsight", rf"^had (?:{_P}) (?:[a-z]+ed|read|run|been)\b", False),
    ("hindsight", r"\b(?:a more careful|any competent|a competent|a better) (?:[\w-]+ )?"
                  r"(?:engineer|operator|developer|pilot|person|reviewer|admin|sre)\b", True),
    ("character", r"\b(?:careless(?:ly|ness)?|negligen(?:t|tly|ce)|sloppy|sloppiness|"
                  r"reckless(?:ly|ness)?|lazy|laziness|incompeten(?:t|ts|ce)|inattentive|"
                  r"inattention|complacen(?:t|cy)|unqualified|irresponsible|hapless|"
                  r"inexperienced|overconfident|clumsy|idiot(?:ic|s)?)\b", True),
    ("character", r"\b(?:not|n't|never) paying attention\b|\black of (?:attention|care|"
                  r"diligence)\b|\bpoor (?:judge?ment|decision[- ]making|seamanship|"
                  r"airmanship)\b|\bnot (?:ready|fit) to be trusted\b", True),
    ("blame_idiom", r"\b(?:dropped the ball|asleep at the wheel|fat[-\s]?finger(?:ed|ing|s)?|"
                    r"screwed up|messed up|fucked up|botched|bungled|cowboy(?:ed)?|"
                    r"yolo'?ed)\b", True),
    ("fault", r"\b(?:the )?fault of (?:the |an? )?(?:[\w-]+ )?(?:engineer|operator|developer|"
              r"on-call|oncall|pilot|crew|captain|driver|intern|contractor|admin|reviewer|"
              r"author|technician|nurse|staff|employee|team member)s?\b|"
              r"\bblame (?:lies |falls |rests )(?:squarely )?(?:on|with)\b|\bthe culprit\b", True),
    ("blame_question", r"^(?:so |but |and )?(?:who|whose)\b[^.!?]{0,200}\?", False),
    ("blame_question", r"^(?:so |but |and )?(?:why|how) (?:could|did|didn't|did not|would|"
                       r"wouldn't|couldn't|on earth) (?:you|he|she|they|the [\w-]+|@[\w.-]+|"
                       r"(?-i:[A-Z][a-z]+))\b[^.!?]{0,200}\?", False),
    ("blame_question", r"^what (?:were you thinking|have you done)\b", False),
    ("punish", r"\b(?:should|must|will|needs? to|ought to) be (?:fired|sacked|disciplined|"
               r"punished|suspended|reprimanded|let go|held (?:to )?account(?:able)?|"
               r"written up|retrained)\b", True),
    ("punish", r"\b(?:needs?|requires?) (?:retraining|re-training|disciplin\w*|to be retrained)\b|"
               r"\btaken action (?:with|against) (?:that|the|this) [\w-]+|"
               r"\bheads (?:will |would |must |should )?roll\b|\bhold (?:them|him|her|"
               r"those responsible|the [\w-]+) (?:to )?account(?:able)?\b", True),
    ("punish", r"\b(?:has|have) been (?:fired|let go|disciplined|suspended|reprimanded)\b|"
               r"\b(?:was|were) (?:fired|sacked|suspended|disciplined|reprimanded)\b", True),
    ("punish", r"\b(?:be|being) (?:more|extra) (?:careful|aware|vigilant|attentive)\b|"
               r"\bpay (?:more|closer) attention\b|\btriple[- ]check\b", True),
    ("self_blame", r"\b(?:this|that|it)(?: one)? (?:is|was|'s) (?:all |entirely )?on me\b|"
                   r"\bmy bad\b|\b(?:all |entirely )?my (?:own )?fault\b|"
                   r"\bi (?:screwed|messed|fucked|goofed) up\b", True),
    ("blame_frame", r"\bdespite being (?:told|warned|asked|reminded|trained)\b|"
                    r"\bas (?:you'd|you would) expect from an? [\w-]+|"
                    r"\bagain, as usual\b|\bas usual\b[^.!?]{0,40}\b(?:broke|forgot|missed)\b|"
                    r"\b(?:who|after) (?:had )?been (?:warned|told) (?:twice|again|before)\b",
     False),
]


def _one_pattern(rejectable: bool) -> re.Pattern:
    # One alternation per kind, so a sentence is scanned twice, not once per phrase; the
    # group's name says which rule matched.
    return re.compile("|".join(f"(?P<r{index}>{_spaced(pattern)})"
                               for index, (_, pattern, kind) in enumerate(_PHRASES)
                               if kind == rejectable), re.IGNORECASE)


PHRASES = {rejectable: _one_pattern(rejectable) for rejectable in (True, False)}
_PHRASE_RULE = {f"r{index}": rule for index, (rule, _, _) in enumerate(_PHRASES)}

# "<someone>'s fault", "Dana's mistake": flagged when the possessor is a person. The owner is
# read by a bounded look back from the apostrophe (`_OWNER`), which keeps this linear.
POSSESSIVE = re.compile(r"'s (fault|mistake|error|oversight|blunder|slip|failure to|"
                        r"negligence|carelessness|lapse|poor|inappropriate|decision to)\b",
                        re.IGNORECASE)
_OWNER = re.compile(r"(@[\w.-]+|[A-Za-z][A-Za-z-]{0,40})$")
_PRONOUN_FAULT = re.compile(r"\b(his|her|their|your) (?:fault|mistake|blunder|negligence|"
                            r"carelessness|failure to)\b", re.IGNORECASE)
# "a mistake by the on-call", "errors made by the crew": the agent must be a person.
MISTAKE_BY = re.compile(r"\b(?:mistake|error|oversight|slip|blunder|lapse)s? (?:were |was )?"
                        r"(?:made |committed )?by "
                        r"(the |an? |this |that )?(@[\w.-]+|[A-Za-z][\w-]*)",
                        re.IGNORECASE)
# "was deleted by Tom", "were not followed by the technician": a passive with a person named.
PASSIVE = re.compile(r"\b(?:was|were|been|being)(?: not)? (?:[a-z]+ly )?([a-z]+(?:ed|en|wn))"
                     r" by (the |an? |this |that )?(@[\w.-]+|[A-Za-z][\w-]*)", re.IGNORECASE)
_FAILURE_PARTICIPLE = frozenset("""
deleted dropped broken broke pushed merged ignored missed overlooked skipped caused made
introduced disabled removed approved deployed shipped forgotten neglected mistyped
misconfigured wiped destroyed overwritten truncated killed rebooted restarted followed
""".split())

# Rejections: a phrase rule with `rejectable` set says nothing in a sentence that has these.
REJECTION = re.compile(r"\b(?:not|never|isn't|wasn't|aren't|weren't|avoid|rather than|"
                       r"instead of|blameless|no one|no-one|nobody|nobody's|don't|doesn't|"
                       r"cannot|can't|won't|stop|old view|nothing)\b", re.IGNORECASE)

# Failure verbs: flagged only with a person as subject (or, for `forgot`, no system subject).
_FAILURE_VERBS = (
    r"failed to|forgot(?:ten)?(?: to)?|neglected(?: to)?|(?:did not|didn't|never|did not bother "
    r"to|didn't bother to) (?:check|test|verify|notice|read|review|follow|run|look|update|tell|"
    r"ask|confirm|validate|monitor|wait|bother|comply|see)|ignored|overlooked|missed|skipped|"
    r"broke|caused|introduced|rushed|mismanaged|mishandled|disregarded|chose to (?:ignore|"
    r"skip|continue|override|bypass)|should(?:'ve| have) (?:caught|checked|tested|"
    r"seen|spotted|verified|reviewed|looked|asked|stopped|run)"
)
_RISKY_OBJECT = (
    r"(?:pushed|deployed|merged|shipped|approved|applied|rolled out|changed|committed|ran)"
    r"(?: (?:a|an|the|his|her|their|this|that))? (?:bad|broken|faulty|wrong|buggy|untested|"
    r"incorrect|invalid|unreviewed|half-finished)\b|"
    r"(?:pushed|deployed|merged|shipped|approved|applied|changed|committed)\b[^.;\n]{0,60}?"
    r"\bwithout (?:testing|checking|review|reviewing|a review|tests|approval|asking|telling|"
    r"reading|looking|waiting)"
)
VERB = re.compile(_spaced(rf"\b(?:{_FAILURE_VERBS}|{_RISKY_OBJECT})"), re.IGNORECASE)
_FORGOT = re.compile(r"forgot|neglected", re.IGNORECASE)
# Verbs only people do: with these, even a sentence-initial capitalised word is a name.
_HUMAN_VERB = re.compile(r"forgot|neglected|ignored|overlooked|rushed|mismanaged|mishandled|"
                         r"disregarded|chose|(?:did not|didn't|never) |should|pushed|"
                         r"merged|approved|committed", re.IGNORECASE)
_ADVERB = re.compile(r"[a-z]+ly")
SUBJECT_WINDOW = 160
_FILLERS = frozenset("""
had has have then also just still again never already later apparently simply clearly
""".split())
_DETERMINERS = frozenset("the our a an their his her my new".split())
_PREPOSITIONS = frozenset("of on in at from for with".split())
_WORD = re.compile(r"@[\w.-]+|[A-Za-z][\w'-]*@?")
_CLAUSE_END = re.compile(r"[.!?;:,()\n\"“”]|\b(?:and|but|because|so|while|when|after|"
                         r"before|since|although|though|which|that|until|if)\b",
                         re.IGNORECASE)
_NAME = re.compile(r"[A-Z][a-z]+(?:[-'][A-Za-z]+)?")


def hits(sentence: str) -> list[Hit]:
    """Every rule's matches in one sentence (curly apostrophes read as straight ones)."""
    text = sentence.replace("’", "'")  # same length: offsets stay the sentence's
    rejections = len(REJECTION.findall(text))
    rejected = rejections > 0
    found = [Hit(m.start(), m.end(), _PHRASE_RULE[m.lastgroup])
             for rejectable, pattern in PHRASES.items() if not (rejectable and rejected)
             for m in pattern.finditer(text)]
    if not rejected:
        found += _possessives(text)
        found += _passives(text)
        found += [Hit(m.start(), m.end(), "mistake_by") for m in MISTAKE_BY.finditer(text)
                  if _kind_of(m.group(2), initial=False) == "person"]
    for m in VERB.finditer(text):
        # A rejection outside the verb itself ("it is not that they missed it") leaves the
        # sentence to the model; "didn't check" carries its own negation.
        if rejections > len(REJECTION.findall(m.group(0))):
            continue
        hit = _person_failure(text, m)
        if hit is not None:
            found.append(hit)
    return found


def _possessives(text: str) -> list[Hit]:
    found = []
    for m in POSSESSIVE.finditer(text):
        owner = _OWNER.search(text, max(0, m.start() - 42), m.start())
        if owner and _kind_of(owner.group(1), initial=False) == "person":
            rule = "fault" if m.group(1).lower() == "fault" else "mistake_by"
            found.append(Hit(owner.start(), m.end(), rule))
    found += [Hit(m.start(), m.end(), "fault" if "fault" in m.group(0).lower() else "mistake_by")
              for m in _PRONOUN_FAULT.finditer(text)]
    return found


def _passives(text: str) -> list[Hit]:
    found = []
    for m in PASSIVE.finditer(text):
        if m.group(1).lower() not in _FAILURE_PARTICIPLE:
            continue
        agent = m.group(3)
        if _kind_of(agent, initial=False) == "person":
            found.append(Hit(m.start(), m.end(), "mistake_by"))
    return found


def _person_failure(text: str, match: re.Match) -> Hit | None:
    verb = match.group(0)
    forgot = bool(_FORGOT.match(verb))
    subject = _subject(text, match.start())
    if subject is None:
        # "Forgot to bump the version." — a person is the only one who forgets.
        opening = not text[:match.start()].strip()
        return Hit(match.start(), match.end(), "forgot") if forgot and opening else None
    word, start, initial = subject
    # A capitalised verb is a title ("Postgres Failover Missed Replica Lag"): its capitalised
    # words are not names unless they are known first names.
    initial = (initial and not _HUMAN_VERB.match(verb)) or verb[0].isupper()
    kind = _kind_of(word, initial=initial)
    if kind == "system" or (kind is None and not forgot):
        return None
    if forgot:
        rule = "forgot"
    elif re.match(r"should|could", verb, re.IGNORECASE):
        rule = "hindsight"
    else:
        rule = "person_failure"
    return Hit(start, match.end(), rule)


def _subject(text: str, verb_start: int) -> tuple[str, int, bool] | None:
    """The head word of the clause before the verb, where its phrase starts, and whether it
    opens a sentence; None when the clause has no subject."""
    # A subject sits within a clause of the verb; looking back a bounded window keeps a long
    # write-up linear to check.
    clause_start = max(0, verb_start - SUBJECT_WINDOW)
    for end in _CLAUSE_END.finditer(text, clause_start, verb_start):
        clause_start = end.end()
    words = list(_WORD.finditer(text, clause_start, verb_start))
    while words and (words[-1].group(0).lower() in _FILLERS
                     or _ADVERB.fullmatch(words[-1].group(0))):
        words.pop()
    if len(words) > 2 and words[-2].group(0) == "on" and words[-1].group(0) in ("call", "duty"):
        del words[-2:]  # "the SRE on call ignored"
    # "The pilots of the aircraft failed": the subject is the head before the preposition.
    for index in range(len(words) - 1, 0, -1):
        if (words[index].group(0).lower() in _PREPOSITIONS
                and _kind_of(words[index - 1].group(0), initial=False) == "person"):
            del words[index:]
            break
    if not words:
        return None
    head = words[-1]
    start = head.start()
    # The whole subject phrase ("the on-call engineer", "Dana Lee") becomes the span.
    for word in reversed(words[:-1]):
        token = word.group(0)
        if token.lower() in _FILLERS:
            break
        if (token.lower() in _DETERMINERS or token[0].isupper()
                or token.lower() in lexicon.ROLES):
            start = word.start()
        else:
            break
    before = text[max(0, head.start() - 10):head.start()].rstrip()
    initial = not before or before[-1] in ".!?\n#*->"
    return head.group(0), start, initial


def _kind_of(word: str, *, initial: bool) -> str | None:
    """`person`, `system`, or None when the word says neither.

    A capitalised word is taken for a name, except at the start of a sentence, where
    "Checkout" or "Search" is as likely a service: there it must be a known first name,
    unless the verb is one only people do (`initial` is then passed False).
    """
    lower = word.lower().removesuffix("'s")
    if word.startswith("@") or word.endswith("@"):
        return "person"
    if lower in lexicon.ROLES or lower in _PERSON_PRONOUNS:
        return "person"
    if lower in lexicon.SYSTEMS or lower.rstrip("s") in lexicon.SYSTEMS:
        return "system"
    if word.isupper() and len(word) > 1:
        return "system"  # an acronym: CI, DNS, API
    if lower in lexicon.COMMON_CAPITALISED:
        return None
    if _NAME.fullmatch(word) and (not initial or lower in lexicon.FIRST_NAMES):
        return "person"
    return None


# "We missed the alert" is how teams write about themselves; it is left to the model.
_PERSON_PRONOUNS = frozenset("i he she they you".split())
