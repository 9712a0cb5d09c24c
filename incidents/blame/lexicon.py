"""Word lists the blame guard reads sentences with: who can be blamed, what judges them.

The lists are general English (roles in software, aviation, rail, shipping, medicine, finance,
and the words people use to judge, punish or excuse), written for the project — not lifted
from the corpus. They let a model trained on a few hundred sentences recognise "the
dispatcher" or "unqualified" it has never seen, because it learns the class, not the word.
"""

from __future__ import annotations


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


# People and roles: the ones a sentence can blame.
ROLES = _words("""
engineer engineers developer developers dev devs programmer programmers coder coders
operator operators pilot pilots copilot copilots co-pilot co-pilots captain captains crew
crews crewmember crewmembers crewman crewmen officer officers commander skipper helmsman
sailor sailors seaman navigator driver drivers motorman conductor conductors controller
controllers dispatcher dispatchers signalman nurse nurses doctor doctors physician surgeon
pharmacist anesthesiologist technician technicians tech techs trader traders banker bankers
accountant accountants employee employees staff staffer staffers personnel
intern interns contractor contractors subcontractor admin admins administrator
administrators sysadmin sysadmins sre sres oncall on-call on-caller on-callers responder
responders reviewer reviewers author authors maintainer maintainers manager managers
director directors supervisor supervisors boss lead ceo cto cio executive executives exec
execs guy guys dude person persons individual individuals someone somebody anyone anybody
colleague colleagues coworker coworkers co-worker co-workers teammate teammates
electrician electricians mechanic mechanics operative operatives culprit culprits
human humans newbie newcomer junior juniors trainee trainees employee's
whoever member members man woman fellow folks people
""")
HE = _words("he she him her his hers himself herself")
ME = _words("i me my mine myself i'm i've i'd")
YOU = _words("you your yours yourself you've you're you'd")
WE = _words("we us our ours ourselves we've we're we'd")
THEY = _words("they them their theirs themselves they've they're they'd")

# Things: a failure word with one of these as subject is about the system.
SYSTEMS = _words("""
alarm alarms alert alerts alerting api apis app application applications backup backups
balancer bot broker build builds cache canary cert certificate change changes check checks
checker ci client clients cluster clusters code commit compiler config configuration
configurations consumer container containers cron daemon dashboard dashboards database
databases db dependency deploy deploys deployment deployments dns endpoint export feature
firewall flag flags gate healthcheck hook image index ingress integration job jobs library
limiter lint linter load lock migration migrations mirror model monitor monitoring network
node nodes page pager parser patch pipeline pipelines platform pod pods policy policies
probe process processes provider proxy query queue release replica request requests retry
rollback rollout rule runbook runner scan scanner schedule scheduler schema script scripts
server servers service services sidecar step suite switch system systems task template
test tests timeout tool tools tooling trigger update upgrade validation validator vendor
version webhook workflow sensor sensors software hardware equipment machine
machines design procedure procedures checklist checklists interface automation signal
signals warning warnings protocol protocols aircraft plane airplane train ship vessel
engine engines brake brakes autopilot computer computers glitch bug bugs outage outages
disk memory host hosts instance instances tls infrastructure environment staging
production prod traffic organisation organization company management culture training
funding staffing budget
""")

# Judgements of character or competence.
JUDGE = _words("""
careless carelessly carelessness negligent negligently negligence sloppy sloppily
sloppiness reckless recklessly recklessness lazy laziness incompetent incompetence
incompetents inattentive inattention complacent complacency inexperienced inexperience
unqualified underqualified irresponsible irresponsibly hasty hastily haste clumsy clumsily
idiot idiots idiotic stupid stupidity dumb moron morons hapless distracted distraction
inappropriate inappropriately improper improperly inadequate inadequately overconfident
overconfidence arrogant arrogance unprofessional unconscionable inexcusable lapse lapses
blunder blunders botched bungled bungling screwed fucked messed goofed negligences
deficiencies deficient incapable unfit asleep dozing dozed cowboy yolo yoloed foolish
foolishly thoughtless thoughtlessly misjudged misjudgment misjudgement mishandled mismanaged
mismanagement culprit culprits misconduct lax laxity rushed
""")

# Failure and omission words: blame when a person is their subject, not when a system is.
ACT = _words("""
failed fail fails failure failures forgot forget forgotten forgetting neglected neglect
neglecting ignored ignore ignoring overlooked overlook missed miss skipped skip disregard
disregarded mistake mistakes error errors fault faults wrong wrongly erroneously broke
broken caused cause causing introduced lost decision decisions chose choose decided
""")

# Punishing or fixing the person.
PUNISH = _words("""
fire fired firing fires sack sacked sacking dismiss dismissed dismissal terminate
terminated termination discipline disciplined disciplinary reprimand reprimanded
reprimands punish punished punishment punishing suspend suspended suspension demote
demoted demotion accountable fined probation retrain retrained retraining consequences
heads canned axed warning culpable culpability relieved charged prosecuted prosecution
jail prison blamed blame blames blaming
""")

# Words that turn a sentence against blame, or away from a person.
REJECT = _words("""
not no never nobody nobody's none n't isn't wasn't aren't weren't don't doesn't didn't
shouldn't cannot can't rather instead blameless avoid stop regardless nor neither
without
""")

# Common first names: a capitalised word that is one of these is a person, even at the start.
FIRST_NAMES = _words("""
aaron adam alex alice amy ana andrea andrew anna ben bob brian carlos carol charlie chen chris
dan dana daniel dave david diana emily emma eric eva frank george grace hannah harry ian jack
james jane jason jen jenny jessica jim joe john jon jordan jose julia kate kevin kim laura lee
lisa luis maria mark mary matt max maya mei michael mike nina noah olivia omar pat paul peter
priya raj rachel ravi rob robert ryan sam sara sarah sean sophie steve sven tom tony wei will
yuki zoe bill jeff greg nick tim joe ken karen linda susan steve jim fred ted
""")

# Capitalised words that are not names: sentence words that get capitals in titles and
# headings, months and days, and common product or place words.
COMMON_CAPITALISED = _words("""
the a an and or but of in on at to for from with by as is was are were be it this that these
those there their our we i if when after before while because so then also however although
monday tuesday wednesday thursday friday saturday sunday january february march april may
june july august september october november december utc am pm root cause summary impact
timeline action actions item items lessons learned contributing factors background incident
outage postmortem post-mortem review what why how who where which resolution detection
recovery note notes update status identified investigating monitoring resolved
""")
