"""The blame-language guard: find phrasing that points at a person instead of the system.

A pure function over text. Phrases that only ever judge a person ("human error",
"careless") are flagged wherever they appear; failure verbs ("failed to", "missed",
"broke") only when their subject is a person — a name, an @mention, a pronoun or a role —
so "the alert failed to fire" and "a configuration change broke the parser" pass.
"""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True)
class Flag:
    start: int
    end: int
    rule: str
    question: str
    phrase: str

    @property
    def key(self) -> tuple[str, str]:
        """What a kept flag is remembered by: the rule and the phrase, case and spacing aside."""
        return self.rule, normalise(self.phrase)


def normalise(phrase: str) -> str:
    return " ".join(phrase.lower().split())[:300]


def _spaced(pattern: str) -> str:
    # Any run of whitespace (a line break in Markdown) between words still matches.
    return pattern.replace(" ", r"\s+")


QUESTIONS = {
    "human_error": "“Human error” ends the inquiry. What about the system made this action "
                   "easy to get wrong, and which station could have caught it?",
    "hindsight": "That is hindsight. What would have had to be true for this to be obvious at "
                 "the time — which check or signal was missing?",
    "person_failure": "Ask what, not who: what let this through, and which station of the line "
                      "should have stopped it?",
    "forgot": "What would make this step impossible to forget — automation, a required check, "
              "a safe default?",
    "character": "A judgement of character prevents nothing. What conditions (time pressure, "
                 "tooling, unclear ownership) shaped this action?",
    "fault": "Fault points at a person. Which station should have caught the defect, and why "
             "did it not?",
    "mistake_by": "Whose mistake it was does not matter next time. What made the mistake "
                  "possible, and silent until production?",
    "blame_idiom": "This phrasing blames a person. What in the process or tooling let this "
                   "happen, and how could the line catch it?",
}

# Subjects that make a failure verb systemic (the thing failed, not a person).
SYSTEM_WORDS = frozenset("""
alarm alert alerting api app application backup balancer bot broker build cache canary cert
certificate change check checker ci client cluster code commit compiler config configuration
consumer container cron daemon dashboard database db dependency deploy deployment dns endpoint
export feature firewall flag gate healthcheck hook image index indexer ingress integration job
library limiter lint linter load lock migration mirror model monitor monitoring network node
page pager parser patch pipeline platform pod policy pr probe process provider proxy pull query
queue rate release replica request retry rollback rollout rule runbook runner scan scanner
schedule scheduler schema script server service sidecar step suite switch system task template
test tests timeout tool tooling trigger type update upgrade validation validator vendor version
webhook worker workflow review staging e2e production prod traffic disk memory host instance
machine sdk mapping function method handler tls alias field fallback
github gitlab jenkins stripe aws gcp azure kubernetes k8s terraform helm postgres postgresql
redis kafka nginx envoy istio datadog grafana prometheus pagerduty opsgenie sentry slack
""".split())

PERSON_WORDS = frozenset("""
i we he she they you someone somebody everyone everybody nobody
engineer engineers developer developers dev devs oncall on-call on-caller operator operators
reviewer reviewers author authors sre sres admin admins administrator responder responders
intern interns contractor contractors person people human humans owner manager teammate
teammates colleague colleagues staff employee employees hire hires team
""".split())

# Words allowed between a subject and its verb ("Dana accidentally pushed").
_FILLERS = frozenset("""
had has have then also just still again never already later apparently simply clearly
""".split())

# Common first names: at the start of a sentence a capitalised word is a name only if it is
# one of these (or the verb is one only people do).
FIRST_NAMES = frozenset("""
aaron adam alex alice amy ana andrea andrew anna ben bob brian carlos carol charlie chen chris
dan dana daniel dave david diana emily emma eric eva frank george grace hannah harry ian jack
james jane jason jen jenny jessica jim joe john jon jordan jose julia kate kevin kim laura lee
lisa luis maria mark mary matt max maya mei michael mike nina noah olivia omar pat paul peter
priya raj rachel ravi rob robert ryan sam sara sarah sean sophie steve sven tom tony wei will
yuki zoe
""".split())

_NAME = r"[A-Z][a-z]+(?:[-'][A-Za-z]+)?"
_MENTION = r"@[\w.-]+"

ALWAYS = [
    ("human_error", r"\b(?:human|operator|user|pilot)[-\s]+errors?\b"),
    ("hindsight", r"\b(?:should|ought to)(?:'ve| have) (?:known|realised|realized|"
                  r"noticed|been (?:more )?(?:careful|aware|paying attention)|paid attention|"
                  r"double-checked|thought)\b"),
    ("character", r"\b(?:careless(?:ly|ness)?|negligen(?:t|tly|ce)|sloppy|sloppiness|"
                  r"reckless(?:ly|ness)?|lazy|laziness|incompeten(?:t|ce)|inattentive|"
                  r"inattention|complacen(?:t|cy))\b"),
    ("character", r"\b(?:not|n't|never) paying attention\b|\black of (?:attention|care)\b"),
    ("blame_idiom", r"\b(?:dropped the ball|asleep at the wheel|fat[-\s]?finger(?:ed|ing)?|"
                    r"screwed up|messed up|botched|cowboy(?:ed)?)\b"),
    ("mistake_by", r"\b(?:mistake|error|oversight|slip|blunder)s? (?:made |committed )?by\b"),
    # Counterfactuals about a person: "if Dana had checked", "had they been paying attention".
    ("hindsight", r"\bif (?:only )?(?:@[\w.-]+|(?-i:[A-Z][a-z]+)|he|she|they|we|you|the "
                  r"[\w-]+) had (?:been paying attention|been (?:more )?careful|checked|tested|"
                  r"read|looked|noticed|followed|asked)\b"),
    ("fault", r"\bfault of\b|\bto blame\b|\bblame(?:s|d)? (?:lies |falls )?(?:on|with)\b"),
]
# "<someone>'s fault", "Dana's mistake": flagged when the possessor is a person.
POSSESSIVE = [
    ("fault", re.compile(rf"({_MENTION}|\b[\w-]+)'s fault\b|\b(his|her|their|my|our|your) "
                         r"fault\b", re.IGNORECASE)),
    ("mistake_by", re.compile(rf"({_MENTION}|\b[\w-]+)'s (?:mistake|error|oversight|blunder|"
                              r"slip)\b(?! (?:budget|rate|handling|message|code|log|path))|"
                              r"\b(his|her|their) (?:mistake|oversight|blunder|slip)\b",
                              re.IGNORECASE)),
]

# Failure verbs: flagged only with a person as subject (or, for `forgot`, no system subject).
_FAILURE_VERBS = (
    r"failed to|forgot(?:ten)?(?: to)?|neglected(?: to)?|(?:did not|didn't|never) "
    r"(?:check|test|verify|notice|read|review|follow|run|look|update|tell|ask|confirm|validate)|"
    r"ignored|overlooked|missed|skipped|broke|caused|introduced|"
    r"(?:should|could)(?:'ve| have) (?:caught|checked|tested|seen|spotted|verified|"
    r"reviewed|looked|asked|stopped|run)"
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
_HUMAN_VERB = re.compile(r"forgot|neglected|ignored|overlooked|(?:did not|didn't|never) |"
                         r"should|could|pushed|merged|approved|committed", re.IGNORECASE)
_ADVERB = re.compile(r"[a-z]+ly")
SUBJECT_WINDOW = 160
_DETERMINERS = frozenset("the our a an their his her my new".split())
_WORD = re.compile(rf"{_MENTION}|[A-Za-z][\w'-]*")
_CLAUSE_END = re.compile(r"[.!?;:,()\n\"“”]|\b(?:and|but|because|so|while|when|after|"
                         r"before|since|although|though|which|that|until|if)\b",
                         re.IGNORECASE)



_COMPILED_ALWAYS = [(rule, re.compile(_spaced(p), re.IGNORECASE)) for rule, p in ALWAYS]
_NEGATED = re.compile(r"\b(?:not|no|nobody's|nobody|never|isn't|wasn't|without)\b[\w' ]{0,20}$",
                      re.IGNORECASE)


def check(text: str) -> list[Flag]:
    """Return the blame flags in `text`, in order, spans not overlapping."""
    if not text:
        return []
    found: list[Flag] = []
    for rule, pattern in _COMPILED_ALWAYS:
        found += [_flag(text, m.start(), m.end(), rule) for m in pattern.finditer(text)]
    for rule, pattern in POSSESSIVE:
        for m in pattern.finditer(text):
            owner = m.group(1)
            if owner and _kind_of(owner, initial=False) != "person":
                continue  # "the vendor's fault", "the parser's error"
            found.append(_flag(text, m.start(), m.end(), rule))
    found = [f for f in found if f.rule != "fault"
             or not _NEGATED.search(text[max(0, f.start - 30):f.start])]  # "not anyone's fault"
    for m in VERB.finditer(text):
        flag = _person_failure(text, m)
        if flag is not None:
            found.append(flag)
    return _without_overlaps(found)


def _flag(text: str, start: int, end: int, rule: str) -> Flag:
    return Flag(start=start, end=end, rule=rule, question=QUESTIONS[rule],
                phrase=text[start:end])


def _person_failure(text: str, match: re.Match) -> Flag | None:
    verb = match.group(0)
    forgot = bool(_FORGOT.match(verb))
    subject = _subject(text, match.start())
    if subject is None:
        # "Forgot to bump the version." — a person is the only one who forgets.
        return _flag(text, match.start(), match.end(), "forgot") if forgot else None
    word, start, initial = subject
    kind = _kind_of(word, initial=initial and not _HUMAN_VERB.match(verb))
    if kind == "system" or (kind is None and not forgot):
        return None
    if forgot:
        rule = "forgot"
    elif re.match(r"should|could", verb, re.IGNORECASE):
        rule = "hindsight"
    else:
        rule = "person_failure"
    return _flag(text, start, match.end(), rule)


def _subject(text: str, verb_start: int) -> tuple[str, int, bool] | None:
    """The head word of the clause before the verb, where its phrase starts, and whether it
    opens a sentence; None when the clause has no subject."""
    # A subject sits within a clause of the verb; looking back a bounded window keeps a long
    # write-up linear to check (the preview runs on every pause in typing).
    clause_start = max(0, verb_start - SUBJECT_WINDOW)
    for end in _CLAUSE_END.finditer(text, clause_start, verb_start):
        clause_start = end.end()
    words = list(_WORD.finditer(text, clause_start, verb_start))
    while words and (words[-1].group(0).lower() in _FILLERS
                     or _ADVERB.fullmatch(words[-1].group(0))):
        words.pop()
    if len(words) > 2 and words[-2].group(0) == "on" and words[-1].group(0) in ("call", "duty"):
        del words[-2:]  # "the SRE on call ignored"
    if not words:
        return None
    head = words[-1]
    start = head.start()
    # The whole subject phrase ("the on-call engineer", "Dana Lee") becomes the span.
    for word in reversed(words[:-1]):
        token = word.group(0)
        if token.lower() in _FILLERS:
            break
        if token.lower() in _DETERMINERS or token[0].isupper() or token.lower() in PERSON_WORDS:
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
    if word.startswith("@") or lower in PERSON_WORDS:
        return "person"
    if lower in SYSTEM_WORDS or lower.rstrip("s") in SYSTEM_WORDS:
        return "system"
    if word.isupper() and len(word) > 1:
        return "system"  # an acronym: CI, DNS, API
    if re.fullmatch(_NAME, word) and (not initial or lower in FIRST_NAMES):
        return "person"
    return None


def _without_overlaps(flags: list[Flag]) -> list[Flag]:
    """Keep the earliest, then longest, flag where spans overlap."""
    result: list[Flag] = []
    for flag in sorted(flags, key=lambda f: (f.start, -(f.end - f.start))):
        if result and flag.start < result[-1].end:
            continue
        result.append(flag)
    return result
