"""Which moment of impact a post is, how urgent it is, and how the member feels.

`classify_post(post)` is the default: deterministic, no model, about a millisecond a post. Two
layers of evidence are added up per moment type, and the highest total wins:

- phrase cues (`CUES`), written from how such posts are phrased in any community (a product
  forum, a game, a library, a hobby club): introductions, grievances, clashes, shared work,
  celebrations, questions. No product names; "the thing that broke" is a shared list of services
  and devices.
- evidence families that only count in combination. A crisis is a failure that is broad ("anyone
  else", "my colleague too", "all our customers"), sudden ("since 9:00", "for two hours") or
  shared infrastructure, or any exposure, loss or danger (someone else's data, a password changed
  by someone else, everything gone, a charger that sparked) whatever the tone: a calm "is anyone
  else unable to log in?" counts as much as a shout. A conflict is an accusation aimed at a member
  (an @handle, a name, a reply to a member, a call to the moderators); the same words aimed at
  the company or its staff are a complaint.

The member profile decides between a first question and a question (few posts or a recent join
date; the text only when the profile is empty), and the thread adds hostility and "same here".
Asking is common inside other moments, so question-ness is capped and gives way to a clear
crisis, complaint or clash. Every cue that fired is listed in `Moment.evidence`.

`classify_post(post, embedder=...)` (or `vector=...`) adds the learned layer of
`copilot.moments_model` when the embedder is the bundled all-MiniLM-L6-v2: a logistic regression
over the post's embedding decides, the rules' verdict counting as one vote; urgency, sentiment
and signals stay the rules'. `Moment.method` says which decided ("rules" or "rules+embed").
Drafting passes the knowledge index's embedder, the API the index's or the settings'.

`classify_post_llm(post, model)` asks a chat model for a JSON verdict (prompts/classify.*.j2)
and falls back to the rules, saying so in `evidence`, when the answer is unusable.

Member sentiment is VADER's compound score with its known blind spots patched: problem phrases
it reads as neutral ("not working", "won't connect"), politeness that hides a complaint
("thanks but it still fails"), sarcasm over a problem ("great, another update that ..."), loss
or exposure it reads as positive ("two years of progress gone") and good news worded with
problem words ("500 days without a crash").
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache
from typing import TYPE_CHECKING, Any, Literal

from copilot.errors import InputError, LLMError, MomentsError
from copilot.types import GenerationOptions, Member, Moment, MomentType, Post, Urgency

if TYPE_CHECKING:
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    from copilot.embeddings import Embedder
    from copilot.llm.base import ChatModel

log = logging.getLogger(__name__)

QUESTION_CAP = 2.2  # the most question-ness can add (a rhetorical "?" must not beat a complaint)
SUBORDINATE_AT = 2.0  # from this score on, another moment outweighs the asking in it
MAX_CHARS = 20_000  # longer posts are analysed on their first MAX_CHARS characters
CLASSIFIER_VERSION = "rules-2"
SYSTEM_TEMPLATE = "classify.system.j2"
USER_TEMPLATE = "classify.user.j2"

T = MomentType
SentimentLabel = Literal["negative", "neutral", "positive"]


@dataclass(frozen=True)
class Cue:
    """A weighted phrase pattern voting for one moment type."""

    type: MomentType
    weight: float
    pattern: re.Pattern[str]
    name: str
    cased: bool = False  # reads the original text (capitalised names), else the lowercased one


def _cues(kind: MomentType, weight: float, *patterns: str) -> list[Cue]:
    return [
        Cue(kind, weight, re.compile(p, re.IGNORECASE), p, cased=True)
        if "(?-i:" in p
        else Cue(kind, weight, re.compile(p), p)
        for p in patterns
    ]


def _lower_rx(pattern: str) -> re.Pattern[str]:
    """A pattern for lowercased text: case-insensitive matching is about three times slower in
    `re`, so the text is lowercased once and most patterns are compiled without the flag."""
    return re.compile(pattern)


# The cues are written from how such posts are phrased in any community (a product forum, a game,
# a library, a hobby club), not from one product or one data set: no product names, and nouns
# for "the thing that broke" come from a shared list of services and devices.
_THING = (
    r"(?:site|website|web ?app|app|apps|server|servers|service|services|platform|api|cloud|sync|"
    r"log ?in|sign[- ]?in|sso|checkout|payments?|store|shop|dashboard|portal|account|accounts|"
    r"network|matchmaking|game|games|uploads?|downloads?|feed|forum|e-?mails?|notifications?|"
    r"backend|database|hubs?|devices?|lights?|bulbs?|remote access|connection|streams?|pages?|"
    r"search|calls?|bookings?|orders?|builds?|pipeline|registry|cdn|dns|vpn|bank|cards?|"
    r"everything|nothing)"
)

CUES: tuple[Cue, ...] = (
    # Introductions and greetings: who I am, where from, that I just arrived -----------------
    *_cues(
        T.WELCOME,
        2.5,
        r"\bintroduc(?:e|ing) (?:myself|ourselves|us)\b|\b(?:quick |short |small )?(?:self[- ]?)?"
        r"intro(?:duction)?\s*[:\-]",
        r"\bmy name(?:'s| is)\b|\bname'?s (?-i:[A-Z])|\bje m'appelle\b|\bme llamo\b|\bich hei(?:ss|"
        r"ß)e\b",
        r"(?:^|[.!,\n]\s*)(?:hi|hey|hello|hi all|hello all|hey all)?[ ,!]*(?:i'?m|i am|this is|we "
        r"are|"
        r"we're) (?-i:[A-Z][a-z]{1,15})\b(?! here to)(?:,| and| from| here|\s*\(|\s*[.!]| a | an |"
        r" \d)",
        r"(?:^|[.!\n]\s*)(?!(?:new|anyone|anybody|someone|everyone|nobody|same|help|question|"
        r"stuck|me|it|problem|issue|also|still|over|out|up|in|click|see|from|link|details|"
        r"photos|files|code|more|info|update|edit|newbie|noob|beginner|lurker|total|nobody|"
        r"again|someone|same|anyone)\b)(?![A-Za-z]+(?:ed|ing) )(?-i:[A-Z][a-z]{1,15}) here\b",
        r"\b(?:hello|hi|hey|greetings|salut|hola|ol[aá]|ahoj|hallo|ciao|bonjour|saying hi|"
        r"saying hello|good (?:morning|evening))\b[^.!?\n]{0,20}\bfrom (?:a |the )?(?-i:[A-Z])",
        r"\blong[- ]?time (?:lurker|reader|player|user|listener)\b|\blurk(?:ed|ing|er)\b",
        r"\b(?:nice|glad|happy|excited|great|pleased|thrilled) to (?:be here|be part|meet (?:you|"
        r"everyone|all)|join|have joined|finally join)",
        r"\b(?:say(?:ing)? (?:hi|hello)|wave hello|pop(?:ping)? in to say|just wanted to (?:say "
        r"(?:hi|hello)|introduce)|wanted to say (?:hi|hello))\b",
        r"\bnice to meet\b",
    ),
    *_cues(
        T.WELCOME,
        1.0,
        r"\b(?:i'?m|i am|we'?re|we are)\s+(?:brand\s+|quite\s+|pretty\s+|very\s+|totally\s+|"
        r"fairly\s+|completely\s+)?new\s+(?:here|in|to|member|user|player)\b",
        r"\b(?:just|recently|finally|today|yesterday)\s+(?:joined|signed up|registered|made an "
        r"account|created an account)|\b(?:finally|decided to|figured i'?d(?: finally)?) (?:join|"
        r"sign up|register|make an account)\b|\bjoin(?:ed|ing)? (?:the|this) (?:forums?|community|"
        r"group|club|server|discord)\b",
        r"\bnew (?:member|here|to the (?:group|forum|community|club))\b",
        r"\bfirst (?:post|time posting|message)\b|\bfirst[- ]time poster\b",
        r"\b(?:hi|hey|hello|greetings|howdy|bonjour|hallo|hola|ol[aá]),? (?:all|everyone|everybody|"
        r"folks|people|there|zusammen|à tous|a todos)\b|\b(?:evening|morning) all\b",
        r"\blooking forward to (?:learning|being part|getting to know|contributing|joining|the|"
        r"swapping|sharing|chatting)",
        r"\b(?:based in|greetings from|living in|i live in)\b",
        r"\b(?:retired|student|engineer|developer|dev|designer|teacher|nurse|driver|dad|mum|mom|"
        r"father|mother|parent|family|owner|tinkerer|hobbyist|physio|doctor|pilot|translator|"
        r"beekeeper|gamer|streamer|artist|photographer|manager|consultant|freelancer)\b",
    ),
    # Complaints: a negative verdict on the product, the company, its prices or its support ---
    *_cues(
        T.COMPLAINT,
        2.0,
        r"\b(?:very |really |extremely |so |deeply |honestly |a bit )?(?:disappointed|"
        r"disappointing|"
        r"frustrated|frustrating|annoyed|annoying|unhappy|not happy|fed up|sick (?:and tired )?of|"
        r"furious|infuriating|livid|angry|unbearable|appalled)\b",
        r"\b(?:unacceptable|ridiculous|outrageous|absurd|pathetic|a joke|a scam|ripoff|rip-off|"
        r"waste of (?:money|time)|garbage|rubbish|useless|worst|terrible|horrible|awful|"
        r"shameful|disgrace)\b",
        r"\b(?:nobody|no one|noone|never) (?:from (?:support|the team|staff) )?(?:has |ever )?"
        r"(?:answered|replied|responded|got back|gets back|bothered)",
        r"\b(?:still no|zero|not a single|never (?:got|received|had) an?) (?:answers?|response|"
        r"reply|replies|word)\b|\bno (?:answers?|response|reply|replies|explanation|update|word) "
        r"(?:from|yet|so far|at all|whatsoever)\b",
        r"\b(?:want|demand|asking for|give me|requested) (?:a |my |our )?(?:refund|money back|"
        r"replacement)",
        r"\b(?:refund|money back)\b",
        r"\bregret (?:buying|purchasing|upgrading|ordering|subscribing|paying)\b",
        r"\b(?:thinking (?:about|of)|going to|will|about to) (?:switch(?:ing)?|return(?:ing)?|"
        r"leav(?:e|ing)|cancel(?:l?ing)?|unsubscrib\w*)\b(?! to (?:the |a )?(?:new|newer|latest|"
        r"next|pro|premium)\b)",
        r"\b(?:how (?:is|can) (?:this|that|it) (?:be )?(?:acceptable|ok|okay|possible|fair))",
        r"\byou (?:guys|people|folks) (?:broke|ruined|keep|never|don'?t|do not|clearly|just)\b",
        r"\b(?:your|the) (?:support|customer service|company|team|moderation|staff)(?: team)? "
        r"(?:is|has been|was|keeps|just|closed|deleted|told|never|said|refused|ignored)\b",
        r"\b(?:is not|isn'?t|not) normal\b|\b(?:\d+|two|three|four|five|"
        r"six|several) (?:days|weeks|months) (?:to|for) (?:a|an|my|the|get|fix|answer|reply)\b",
        r"\bthanks for nothing\b|\b(?:hate|hates|hated|can'?t stand|loathe)\b",
        r"\b(?:hasn'?t|haven'?t|has not|have not|still hasn'?t|never) (?:even )?(?:answered|"
        r"replied|responded|got(?:ten)? back|fixed|shipped|refunded|delivered)\b|\b(?:we'?re|i'?m|"
        r"we are|i am) paying (?:for|\d)|\bisn'?t happening\b",
        r"\b(?:paid|pay(?:ing)?) (?:good |real )?(?:money|\d+\s*(?:€|\$|£|dollars|euros?|pounds)|"
        r"for (?:this|it|the|a|an))\b|\b(?:a )?paying (?:customer|subscriber|member|user)\b",
        r"\bnot what i paid for\b|\bi (?:paid|pay) (?:for|\d)|\bi paid\b",
        r"\b(?:isn'?t|is not|wasn'?t|not) (?:the (?:experience|quality|service)|what) i "
        r"(?:expected|"
        r"was promised|signed up for)\b|\bexpected (?:better|more)\b|\bno way to (?:turn|switch|"
        r"disable|opt)\b",
        r"\b(?:let down|not impressed|not cool|not okay|not ok|bait and switch|i expect(?:ed)? "
        r"better|(?:copy[- ]paste|canned|template|generic) (?:answer|reply|response|e-?mail)|wow,? "
        r"just wow|not acceptable|inaceptable|inakzeptabel|inacceptable|decepcionad\w*|"
        r"entt[äa]uscht|déçu|poor (?:communication|quality|support|service|build|design))\b",
        r"\b(?:shouldn'?t have to|should not have to|doesn'?t help|does not help|didn'?t help|"
        r"nothing (?:we|they) can do|(?:treat|treating) (?:your |loyal |paying )?customers|"
        r"this is not how)\b",
        r"\bwhy (?:did|would|do|does) (?:you|they|every|each|the (?:new|latest))\b[^.!?\n]{0,40}"
        r"\b(?:make|change|remove|move|add|put|force|hide|break|slower|worse|need)",
        r"\b(?:bring|put|give) (?:it |us |them |the \w+ )?back\b|\bplease (?:revert|undo|"
        r"restore)\b|"
        r"\bswitch back\b|\b(?:prefer|preferred|liked|miss|loved|give us|bring back|return to) "
        r"(?:\w+ ){0,3}the old (?:layout|design|version|ui|editor|app|interface)\b",
        r"\b(?:still|keep|keeps) (?:being |getting )?(?:charged|billed)\b|\b(?:support|they|you) "
        r"keeps? (?:saying|telling|promising|closing)\b",
        r"\bforced (?:update|upgrade|subscription)\b|(?<!nobody )(?<!no one )\bforc(?:es|ed|ing) "
        r"(?:me|us|you|users|people) to\b|\bdark pattern\b",
        r"\bpaywall|subscription fee|now charg(?:e|ing)\b|\b(?:doubled|tripled|raised|hiked|"
        r"increased) (?:the |their |your |its )?(?:price|prices|fee|fees|subscription)\b|\bprice "
        r"(?:hike|increase|went up)\b",
        r"\b(?:too much to ask|every other (?:app|site|product|game|tool|company|platform|service|"
        r"brand) (?:has|does|offers|supports|manages)|cash grab|money grab|greedy|greed|"
        r"nickel(?:ing)?"
        r" and dim\w*|behind (?:a |the )?(?:\w+ )?(?:paywall|plan|tier|subscription))\b",
        r"\b(?:(?:been )?waiting (?:for )?(?:\w+ ){0,2}(?:days|weeks|months)|(?:days|weeks|months) "
        r"(?:of waiting|without (?:an? )?(?:answer|reply|response|fix|update|refund))|waiting "
        r"(?:\w+ ){0,3}for (?:an? )?(?:answer|reply|response|refund|"
        r"replacement))\b|\bwhy (?:is|are) (?:the |your )?(?:customer service|support|shipping|"
        r"delivery|prices?)\b",
        r"\b(?:nerf(?:ed)?|ruined|butchered|buried|makes? (?:it|things|everything) worse|made "
        r"(?:it|"
        r"things|everything) worse|why (?:make|change|remove|ruin|break|hide|force)\b)",
        r"\b(?:(?:so|totally|completely|really) done with|fix (?:it|this|them) already|get your "
        r"act "
        r"together|unbelievable|(?:zero|no) progress|still nothing|nothing (?:has )?(?:changed|"
        r"happened)(?! on (?:my|our) (?:side|end))|feels? (?:so )?(?:rushed|cheap|unfinished|"
        r"half-baked|lazy|outdated|dated|sloppy)|"
        r"(?:were|was) never (?:taught|explained|covered|mentioned)|(?:liked|loved) (?:it|the \w+|"
        r"this) at first,? but)\b",
        r"\b(?:getting old|last straw|enough is enough|had enough|(?:i'?m|we'?re) done with "
        r"(?:this|the|your|it)|not anymore)\b",
        r"\b(?:without|with no|zero) (?:an? |any )?(?:\w+ )?(?:notice|explanation|warning|"
        r"communication|apology)\b|\bnobody (?:apologi[sz]ed|said sorry|warned us)\b",
    ),
    *_cues(
        T.COMPLAINT,
        1.0,
        r"\b(?:keeps?|kept) (?:breaking|crashing|disconnecting|dropping|failing|kicking|logging)\b",
        r"\b(?:every|each) (?:single )?(?:update|time|release|patch|day|week)\b.*\b(?:break|broke|"
        r"worse|fail|slower|crash)",
        r"\b(?:since|after) (?:the |this |your |last )?(?:latest |last |new )?(?:update|upgrade|"
        r"firmware|release|patch|redesign)\b.*\b(?:broke|broken|worse|nothing works|useless|"
        r"stopped|slow(?:er)?)|\b(?:slow(?:er)?|worse|broken|buggy) (?:\w+ )?(?:since|after) "
        r"(?:the |"
        r"this |your |last )?(?:latest |last |new )?(?:update|upgrade|firmware|release|patch|"
        r"redesign)\b",
        r"\b(?:still|again)\b.*\b(?:broken|not (?:fixed|working|shipped|resolved)|doesn'?t work|"
        r"fails)",
        r"\b(?:downgrade|worse than before|step backwards?|used to (?:work|be|open|take))\b",
        r"\b(?:great|wonderful|fantastic|lovely|love (?:how|that)|thanks a lot),? (?:another|"
        r"yet another|now|so) ",
        r"\bsupport ticket\b|\bticket (?:open|number|#)\b|\b(?:closed|reopened) (?:my |the "
        r")?ticket\b",
        r"\b(?:weeks?|months?)\b.*\b(?:without (?:a )?(?:fix|answer|reply|response)|waiting|"
        r"later|still)\b|\bwaiting (?:for )?(?:\w+ )?(?:weeks|months)\b",
        r"\b(?:broke|breaks) (?:our|my) \w+|\b\d+ (?:tickets|emails|calls|chats|messages to "
        r"support)\b|\b(?:ads|adverts|advertising|pop-?ups?)\b|\b(?:a mess|a disaster|makes no "
        r"sense)\b",
        r"\b(?:slower|laggy|clunky|buggy|confusing|bloated|overpriced)\b",
        r"\bnobody asked (?:for|us|users)\b|\bwithout asking\b",
        r"\b(?:not|never) (?:shipped|arrived|delivered)\b|\b(?:arrived|came) (?:damaged|broken|"
        r"crushed)\b",
    ),
    # Crisis: outages, incidents, security, data loss, money taken wrongly, physical danger ----
    *_cues(
        T.CRISIS,
        2.5,
        r"\b(?:outage|service disruption|incident|downtime)\b",
    ),
    *_cues(
        T.CRISIS,
        1.0,
        r"\b(?:server[- ]side|on (?:your|their|the server) (?:end|side)|backend|back end)\b",
        r"\burgent\b|\basap\b|\bemergency\b",
        r"\b(?:logged (?:me |us |everyone )?out|locked out|lost access|permission denied)\b",
    ),
    # Conflict: members clashing with members ---------------------------------------------------
    *_cues(
        T.CONFLICT,
        2.5,
        r"@[\w.-]+,? (?:you(?:'re| are)?|your|u r|ur|stop|please stop|calling|quit)\b",
        r"\byou(?:'re| are) (?:wrong|clueless|an idiot|a troll|lying|a liar|just|clearly|"
        r"obviously|not|being|spreading|twisting|missing)\b",
        r"\byou (?:clearly |obviously )?(?:don'?t|do not|didn'?t|did not) (?:know|understand|"
        r"read|get it|have a clue|get to|watch|listen|bother|even try|check)\b",
        r"\b(?:maybe|just|please) (?:don'?t|stop|try not to) \w+ (?:everyone|people|others|"
        r"newcomers|beginners)\b",
        r"\b(?:stop|quit) \w+ing my (?:words|posts?|comments?|threads?|code|questions?)\b|"
        r"\byou (?:\w+ )?(?:reported|flagged|downvoted|deleted|blocked|muted) my\b|\bbecause you "
        r"disagree|\babus\w* (?:of )?the report|\bimagine (?:gatekeeping|being|thinking)\b",
        r"\b(?:stop|quit) (?:spreading|posting|trolling|derailing|being|telling|spamming|replying|"
        r"deleting|tagging|calling|mocking|lecturing|following|putting|pretending)\b",
        r"\b(?:troll(?:ing)?|idiot|moron|clown|stupid(?! question)|dumb(?! question)|"
        r"know[- ]it[- ]all|gatekeep\w*|condescending|patroni[sz]ing|arrogant|toxic|elitist|"
        r"fanboy)\b",
        r"\bnobody (?:asked|needs|wants) (?:you|for your|your)\b|\bmind your own\b|\bshut up\b|"
        r"\bget lost\b|\bscroll on\b|\bstay out of\b",
        r"\b(?:rtfm|read the (?:docs|manual|faq|thread|whole thread) (?:before|first))\b",
        r"\b(?:personal attack|attacking me|insult(?:ed|ing|s)?|rude|disrespectful|harass\w*|"
        r"bully\w*)\b",
        r"\b(?:moderators?|mods?|admins?),? (?:please |can you |could you )?(?:please )?"
        r"(?:do something|step in|intervene|ban|look|lock|deal)",
        r"\b(?:this|that) (?:guy|person|user|member|poster)\b",
        r"\bnot (?:your|ur) (?:place|business|call)\b|\byou don'?t get to\b",
        r"\bwhat(?:'s| is) your problem\b|\bwho (?:do you think|are you to|asked you)\b",
        r"\b(?:snark\w*|petty|passive[- ]aggressive|sarcas\w*|downvot\w*|stalk\w*|"
        r"following me around|going around)\b",
        r"\b(?:copying|copied|stealing|stole|reposting|reposted) my (?:\w+ )?(?:notes|work|code|"
        r"post|answer|design|guide|integration|photos?|build|idea)|\bunder your (?:own )?name\b|"
        r"\b(?:just|please) move on\b|\b(?:turn|turns|turning|drag|dragging) every (?:\w+ )?"
        r"(?:thread|discussion|post|topic) into\b|\blet people (?:use|enjoy|like|play|do|have)\b|"
        r"\b(?:exhausting|tiring|annoying|frustrating|funny|sad) how you\b|\bif (?:my|this|our) "
        r"\w+ (?:offends|bothers|annoys|upsets) "
        r"you\b",
        r"\byou (?:copied|stole|twist\w*|attack\w*|mock\w*|lectur\w*|insult\w*|accus\w*|"
        r"call(?:ed)? "
        r"me|ignored? my|replied with|show up|only show up|keep (?:arguing|twisting|attacking|"
        r"derailing|posting|showing|replying))\b",
        r"\b(?:keep arguing|twists? (?:every|my) words?|putting words in my mouth|(?:call|calling|"
        r"called) (?:me|someone|people|others|other \w+|everyone) (?:here )?['\"]?(?:a |an "
        r")?(?:liar|"
        r"idiot|troll|names|lazy|stupid|bots?|noobs?))\b",
        r"\b(?:don'?t|do not|stop) (?:tell(?:ing)?|lectur\w*|attack\w*) (?:newcomers|people|others|"
        r"me|him|her|them)\b|\bnot how we do things\b|\b(?:you'?re|you are) missing the point\b",
        r"\b(?:pretty rich|funny how you|says the (?:person|guy|one)|trading insults|in my "
        r"mouth)\b",
        r"\b(?:(?:you )?(?:have|got) no (?:idea|clue) what|no idea what you'?re talking about|"
        r"arguing with (?:you|him|her|them)|(?:act|acting|play|playing) (?:like )?the victim|"
        r"we get it|get over (?:it|yourself)|grow up|cry (?:more|about it)|lol ok|touch grass|"
        r"let people enjoy|and you know it|(?:just )?to win an argument|felt the need to)\b",
        r"\b(?:stop|quit) \w+ing (?:people|beginners|newcomers|others|everyone|me|us|new members|"
        r"new players)\b|\byou (?:\w+ ){0,4}(?:call|calling|called) (?:my|our|me|us)\b",
    ),
    *_cues(
        T.CONFLICT,
        1.0,
        r"\b(?:with all due respect|no offen[cs]e,? but|sorry,? but you)\b",
        r"\b(?:misinformation|wrong information|bad advice|spreading|wrong advice)\b",
        r"\b(?:you|u) (?:always|never|keep|only)\b",
        r"\b(?:blocked|ignore list|reported (?:you|your|this post|him|her|them))\b",
        r"\b(?:derail\w*|off[- ]topic|hijack\w*)\b",
        r"\b(?:your (?:tone|attitude|comment|reply|post|sarcasm|review|opinion|behaviou?r|"
        r"rant)|the tone)\b",
        r"\b(?:unfair|mocking|lecture|lecturing|condescend\w*)\b",
        r"\bkeep it (?:constructive|civil|respectful|friendly|polite|on topic)\b",
    ),
    # Contribution: something made and shared ----------------------------------------------------
    *_cues(
        T.CONTRIBUTION,
        2.5,
        r"\b(?:i|we)(?:'ve| have)? (?:just |finally |also )?(?:made|built|wrote|written|created|"
        r"developed|published|released|put together|hacked together|whipped up|open[- ]sourced|"
        r"coded|designed|translated|ported|packaged|recorded|measured|compiled|drew|drafted|"
        r"documented|filmed|mapped|benchmarked|updated the (?:wiki|docs|guide|faq))\b"
        r"(?! (?:to|back|an? (?:email|ticket|message|mail|complaint|account|post)))",
        r"\b(?:i|we)(?:'ve| have)? (?:just )?(?:fixed|added|improved|updated|rewrote|refactored|"
        r"expanded|extended|corrected|reorgani[sz]ed) (?:the |a |some |several |a few |\d+ |all |"
        r"our |my )?(?:\w+ ){0,2}(?:links?|docs|documentation|wiki|pages?|tutorials?|guides?|"
        r"translations?|typos?|examples?|entries|articles?|sections?|faq|readme|list|"
        r"recipes?|maps?|glossary|templates?)\b"
        r"(?! (?:to|back|an? (?:email|ticket|message|mail|complaint|account|post)))",
        r"(?:^|[.!\n]\s*)(?:made|wrote|built|created|designed|put together|packaged|recorded|"
        r"translated|updated|bisected|measured|compiled|drew|filmed|finished (?:translating|"
        r"writing|building))\b(?! (?:to|back|an? (?:email|ticket|complaint|account)))",
        r"\b(?:translation|port|guide|plugin|integration|binding|version \d[\d.]*)\b[^.!?\n]{0,40}"
        r"\b(?:is (?:done|out|ready|finished|live)|now available)\b",
        r"\b(?:i|we)(?:'ve| have)? (?:just )?(?:opened|submitted|sent|made|created|filed|posted|"
        r"put "
        r"up|pushed) (?:a |the |my |our )?(?:\w+ )?(?:pull request|merge request|pr|patch|fix)\b|"
        r"(?:^|[.!\n]\s*)(?:opened|submitted|sent|filed|posted|pushed) (?:a |the )?(?:\w+ "
        r")?(?:pull "
        r"request|merge request|pr|patch|fix)\b|\b(?:pr|pull request|patch) (?:is )?(?:up|open|"
        r"ready|attached|submitted|linked)\b",
        r"(?:github|gitlab|codeberg|sourcehut|bitbucket)\.(?:com|org)/|\bnpmjs\.com/|\bpypi\.org/",
        r"\bhere'?s (?:a|my|our) (?:small |little |quick |tiny |simple |free |new )?[\w-]+ (?:that|"
        r"which|i|we|for)\b",
        r"\b(?:sharing|share|here'?s|here is|posting) (?:my|a|the|our|some) (?:\w+ ){0,2}(?:plugin|"
        r"integration|script|tutorial|guide|blueprint|template|dashboard|theme|config|tool|library|"
        r"card|automation|walkthrough|write-?up|fix|workaround|translation|case|mount|stl|jig|"
        r"pattern|presets?|recipe|map|mod|cheat ?sheet|video|list|spreadsheet|plans?|extension|"
        r"userscript|bot|widget|bookmarklet|skin|pack|checklist|deck|summary|notes)\b",
        r"\b(?:translat(?:ed|ion|ing))\b.*\b(?:into|to|in) (?:\w+ )?(?:german|french|spanish|"
        r"italian|portuguese|dutch|polish|japanese|chinese|korean|turkish|swedish|czech|ukrainian|"
        r"russian|hindi|arabic|greek|danish|finnish|norwegian)\b",
        r"\b(?:steps to reproduce|minimal repro\w*|reproduc(?:ed|ible|tion)|bisect\w*|root "
        r"cause)\b",
        r"\b(?:found|figured out|tracked down|traced|pinned down) (?:the|a|what|why|where)\b|"
        r"\b(?:cleaned up|tidied up|proposed fix|fix proposal|one-line fix|posted a (?:fix|"
        r"patch))\b",
        r"\b(?:feel free to|free to) (?:use|fork|try|improve|contribute|share|remix|copy|adapt)\b",
        r"\b(?:open[- ]source|mit licen[cs]e|apache licen[cs]e|gpl|creative commons|cc-by)\b",
        r"\b(?:free (?:download|to (?:use|download|share))|no sign-?up (?:needed|required))\b",
    ),
    *_cues(
        T.CONTRIBUTION,
        1.0,
        r"\b(?:plugin|integration|custom component|add-?on|library|sdk|wrapper|docker image|"
        r"node-red flow|addon|firmware mod|cli|extension|template|presets?|cheat ?sheet|mod|guide|"
        r"script|tool)\b",
        r"\b(?:tutorial|how-?to guide|step[- ]by[- ]step|walkthrough|write-?up|documentation|docs "
        r"(?:fix|update|page)|video (?:guide|walkthrough|tutorial))\b",
        r"\b(?:feedback|suggestions|testers|beta testers|issues|prs|pull requests|corrections|"
        r"contributions|reviews?) (?:and \w+ )?(?:are |is )?(?:very )?(?:welcome|appreciated|"
        r"wanted)\b",
        r"\b(?:hope (?:this|it) helps|might (?:be useful|help)|useful for (?:someone|others|"
        r"anyone)|"
        r"for anyone (?:who|fighting|struggling|interested|trying|else)|since (?:a few|some|"
        r"several) (?:people|of you) asked|enjoy!|happy (?:building|knitting|coding|baking|"
        r"gaming|riding|printing))",
        r"\b(?:repo|repository|source code|changelog|readme|wiki)\b",
        r"\b(?:log(?:s)?|trace|stack ?trace|packet capture|wireshark)\b.*\b(?:attached|below)\b",
        r"\binstructions (?:included|below|inside|in the readme)\b|"
        r"\b(?:attached|in the gist|import link|download link|link below|linked below|releases "
        r"page|stl|json attached|pdf|spreadsheet|measurements|findings|workaround)\b",
    ),
    # Milestones: anniversaries, counts, launches, firsts and achievements ---------------------
    *_cues(
        T.MILESTONE,
        2.5,
        r"\b(?:\d+|one|two|three|four|five|six|seven|eight|nine|ten|twenty)(?:st|nd|rd|th)? "
        r"(?:years?|months?|decades?) (?:ago today|since i (?:joined|started|bought|installed|"
        r"first)|"
        r"anniversary|with (?:the community|this community|you|us)|in this community|"
        r"on (?:this|the) forum|(?:in|of) (?:this|the) (?:community|club|group|forum))",
        r"\banniversary\b|\bbirthday\b|\bcake day\b",
        r"\bmy (?:\d[\d,.]*|hundredth|thousandth)(?:st|nd|rd|th)? (?:post|reply|answer|solution|"
        r"contribution|day|commit|review|ride|run|game|win)\b",
        r"\b(?:reached|hit|passed|crossed|surpassed|celebrat\w*|topped|broke) (?:\d[\d,.]*k?|a|the|"
        r"one|our|my|over|more than)\b[^.!?\n]*\b(?:members|users|stars|downloads|installs|posts|"
        r"devices|bulbs|lights|milestone|mark|followers|solutions|subscribers|customers|bookings|"
        r"sales|orders|players|contributors|commits|level|rank|streak|answers)\b",
        r"\bmilestone\b",
        r"\b(?:we|it|finally|officially|just) (?:shipped|launched|went live|is live|are live|"
        r"released|hit (?:1\.0|v1|general availability))\b|\b(?:officially|finally) (?:released|"
        r"out|live|launched)\b",
        r"\b(?:just |finally )?(?:graduated|got promoted|became (?:a )?(?:moderator|regular|"
        r"leader|maintainer))",
        r"\b(?:finished|completed) (?:my|our|the) (?:whole|entire|full|first)\b",
        r"\b(?:celebrat(?:e|ed|ing|ion)|cheers to|here'?s to)\b",
        r"\b\d+(?:st|nd|rd|th) (?:\w+ )?(?:workshop|meetup|post|answer|birthday|anniversary|"
        r"release|event|question|solution|pr|contribution|day|year|booking|order|sale|episode|"
        r"issue|game|win)\b",
        r"\b(?:\d+|one|two|three|five|ten) (?:years?|months?|days?|weeks?) (?:ago today|of uptime|"
        r"today|without (?:a )?(?:reboot|crash|problem|break|miss)|trouble-free)\b|\b\d+[- ]day "
        r"streak\b|\bstreak\b",
        r"\bit'?s official\b|\b(?:is|are) (?:finally )?out!|\bbiggest ever\b|\bfull circle\b",
        r"\b(?:got|earned|received) (?:the |a |my )?['\"]?[\w ]{0,25}['\"]? badge\b",
        r"\b(?:my|our|his|her|their) (?:\d{2,}[\d,]*|hundredth|thousandth|fiftieth)(?:st|nd|rd|th)?"
        r" (?!(?:floor|attempt|try|time|email|ticket|message|day of))",
        r"\b(?:today|this week|this month|this year) marks\b|\bturn(?:ed|s) (?:\d+|one|two|three|"
        r"four|five|six|seven|eight|nine|ten)\b",
        r"\b(?:my|our) (?:very )?first (?:\w+ ){0,2}(?:ever|marathon|race|harvest|sale|order|"
        r"customer|release|win|podium|sweater|quilt|exhibition|paycheck|client|century|ultra|"
        r"half|triathlon)\b|\bfirst \w+ ever\b|\bmy (?:very )?first (?:\w+ ){1,5}(?:got|was|is|"
        r"has been|went|just) (?:merged|accepted|published|approved|released|live|sold|funded)\b",
        r"\b(?:finally|just) (?:got|made it|reached|ran|finished|passed|hit|won|beat|completed) "
        r"(?:to )?(?:my |our |the |a |an )?(?:\w+ ){0,2}(?:rank|level|marathon|exam|goal|summit|"
        r"certification|degree|diamond|platinum|gold|master|grandmaster|tier|100|1000)\b",
        r"\buptime\b[^.!?\n]{0,20}\b(?:\d+|one|two|three|five|ten) (?:days|weeks|months|years?)|"
        r"\b(?:\d+|one|two|three|five|ten) (?:days|weeks|months|years?) (?:of )?uptime\b",
        r"\bfinally (?:beat|won|cleared|finished|completed|reached|passed|defeated|landed|nailed|"
        r"made it|complete|done)\b|\b(?:\d+|one|two|three|four|five|six|seven|eight|nine|ten) "
        r"(?:years?|months?)(?: and [^.!?\n]{0,30})? later\b",
        r"\b(?:i|we) (?:just |finally |have |'ve )?(?:passed|earned|completed|finished|won|got|"
        r"received) (?:my |our |the |a |an )?(?:\w+ ){0,2}(?:certification|certificate|exam|degree|"
        r"award|title|championship|tournament|diploma|licen[cs]e|black belt)\b",
    ),
    *_cues(
        T.MILESTONE,
        1.0,
        r"\b(?:proud|thrilled|excited|happy) to (?:announce|share|say|report)\b",
        r"\b(?:thank you all|thanks everyone|thanks to (?:all|everyone|every|this community)|"
        r"couldn'?t have done it without|thanks? to every(?:one|body)? who|thanks? (?:you )?for "
        r"all "
        r"the (?:help|support|advice|tips))\b|\bafter \d+ (?:attempts|tries|wipes|runs)\b",
        r"[🎉🥳🎂🎊🍾🏆🥂]",
        r"\b(?:woo+ho+|yay+|hooray|huzzah)\b",
        r"\b(?:today|this week|this month|this year) (?:marks|is|was)\b",
        r"\b(?:passed|earned|won|achieved|(?:was|were|got) (?:selected|chosen|accepted|certified)|"
        r"became|(?:i'?m|i am|we'?re|we are) now (?:an? )?(?:official|certified))\b",
        r"\b(?:big day|proud (?:moment|tonight|today)|feeling proud|made my (?:day|week)|new "
        r"(?:house|"
        r"home|chapter)|what a (?:ride|journey|year)|never thought i'?d|so happy|proud of)\b",
        r"\bfull(?:y)? (?:automated|converted|migrated) (?:my|our|the) (?:house|home|flat|"
        r"apartment)\b",
        r"\bfirst (?:try|attempt|time)\b[^.?\n]*!",
        r"\b(?:first|one|two|three|five|ten|\d+) (?:year|years) (?:of|with|in|on)\b",
        r"\b(?:pull request|merge request|pr) (?:\w+ )?(?:got |was |has been |just )?merged\b",
        r"\b\d[\d,.]*k? (?:members|downloads|stars|installs|attendees|active installs|subscribers|"
        r"bookings|customers)\b",
    ),
)

# Question-ness (feeds both `question` and `first_question`).
_QUESTION_CUES: tuple[tuple[float, re.Pattern[str], str], ...] = tuple(
    (w, _lower_rx(p), p)
    for w, p in (
        (1.0, r"\?"),
        (
            1.0,
            r"(?:^|[.!\n]\s*)(?:how|what|which|where|why|when|who|is|are|can|could|does|do|did|"
            r"should|would|will|has|have|any ?one|anybody|is there|any way)\b[^.!?\n]{3,}",
        ),
        (
            1.0,
            r"\b(?:how (?:do|can|to|should|would)|is it possible|is there a way|any (?:way|tips|"
            r"advice|ideas|suggestions|idea)|what'?s the best|can (?:i|you|someone|anyone))\b",
        ),
        (0.8, r"\b(?:does anyone|anyone know|has anyone|did anyone|can someone|could someone)\b"),
        (
            0.6,
            r"\b(?:help|advice|wondering|not sure|confused|stuck|i can'?t figure|newbie|noob|"
            r"beginner|recommend\w*)\b",
        ),
        (0.4, r"\bthanks? (?:in advance|for any help)\b|\bappreciate any\b|\btia\b"),
        (
            0.8,
            r"\b(?:quick|small|simple|silly|dumb|stupid|newbie|noob|basic|beginner) (?:question|"
            r"q)\b"
            r"|\bquestion\s*:",
        ),
    )
)

_NEWCOMER_TEXT = _lower_rx(
    r"\b(?:i'?m|i am) (?:brand |very |totally |quite )?new\b|\bjust (?:joined|got|bought|"
    r"started|set up|unboxed|received)\b|\bnewbie\b|\bnoob\b|\bbeginner\b|\bfirst (?:post|time|"
    r"question)\b|\b(?:got|bought|ordered|installed|set up) my (?:very )?first\b|\bnew (?:here|to|"
    r"member|user|owner)\b",
)


# Evidence families ------------------------------------------------------------------------------
# Each family is one general fact about a post; a moment is decided by how they combine (a failure
# that many people share, or that began at a clock time, is a crisis; the same failure reported
# by one member about the product is a complaint or a question).
_REPEATED = _lower_rx(
    r"\b(?:again|yet again|once more|third time|second time|fourth time|(?:\d+|two|three|"
    r"four|five)(?:rd|th|nd)? time|keeps? (?:happening|coming back)|every (?:single )?time|"
    r"for (?:weeks|months)|repeatedly|over and over|no fix yet|recurring|in a row|"
    r"back to back|like last time|as (?:before|last time)|(?:twice|three times) (?:now|already)|"
    r"every single day)\b",
)
_SECURITY = _lower_rx(
    r"\b(?:(?<!report a )(?<!reporting a )(?<!disclose a )security (?:issue|hole|flaw|problem|bug|"
    r"incident|risk|breach)|vulnerab\w*|exploit\w*|"
    r"cve-\d+|breach\w*|hack(?:ed|er|ers)|compromised|unauthori[sz]ed|leak(?:ed|ing|s)? "
    r"(?:my|our|the|your|user|customer|personal|private|api|all|secrets|credentials|tokens|keys|"
    r"passwords|data)|(?:uploads?|sends?) (?:\w+ ){0,4}(?:\.env|secrets|credentials|tokens|"
    r"api keys|passwords)|fake (?:\W?\w+\W? )?(?:account|profile|admin|staff|moderator|support)|"
    r"impersonat\w*|(?:token|key|password|data|"
    r"credentials|details|info\w*) (?:was |were |is |are |got |being )?(?:leaked|exposed)|"
    r"expos(?:es|ed|ing) (?:my|our|the|your|user|customer|personal|private|api|all)|phishing|"
    r"(?:credential|password|token|crypto|wallet)[- ]steal\w*|stealer|backdoor\w*|supply[- ]chain "
    r"attack|typosquat\w*|(?:malicious|suspicious|credential[- ]stealing) (?:payload|code|script|"
    r"package|release)|malware|malicious|spyware|keylogger|trojan|ransomware|virus|antivirus|"
    r"attacked|dumped|"
    r"never been there|not from us|(?:logged|signed) (?:me |us )?in(?:to| to) (?:\w+ ){0,2}"
    r"(?:neighbou?r|someone|a stranger|another|other|a different)\w*'?s?|(?:i|we) can (?:control|"
    r"see|access|edit|read|open|change) their\b|ask(?:ing|ed|s)? (?:\w+ ){0,2}for (?:my |our |your "
    r"|their |"
    r"bank |card )*(?:bank details|card (?:details|numbers?)|passwords?|log ?in details|"
    r"credentials|pin|social security|ssn|verification codes?|2fa codes?|log ?ins?|account "
    r"details)|(?:i |we )?(?:don'?t|do "
    r"not) own|(?:i |we )?(?:didn'?t|did not|never) "
    r"(?:make|buy|order|authori[sz]e|approve)\b|(?:data|account|money|card) (?:is |are )?"
    r"(?:still )?safe|redirect\w* (?:me |us |you )?to (?:an? )?(?:weird|strange|suspicious|unknown|"
    r"fake|different|betting|scam)|(?:weird|strange|suspicious) redirect|"
    r"(?:password|reset|log ?in|sign-?in|verification|security|2fa) (?:\w+ ){0,3}(?:i|that i) "
    r"(?:never|didn'?t|did not) (?:ask|request)\w*|(?:scam|fake) (?:e-?mail|message|link|site|page|"
    r"dm)|"
    r"(?:someone|somebody) else'?s|strangers?'s|strangers'|other (?:people|users|customers|members|"
    r"players|students|patients|clients|families)'?s?\b[^.!?\n]{0,40}\b(?:data|accounts?|"
    r"invoices?|bookings?|names?|e-?mails?|addresses|phone numbers|details|files|messages|orders|"
    r"homes?|hubs?|photos|records|payments?)|another (?:user|customer|member|person|player|"
    r"student|patient|client|employee|parent|family)'?s|privacy (?:issue|problem|breach|leak|"
    r"violation|nightmare)|"
    r"(?:i|we) (?:can|could) see (?:other|someone|strangers|another|people'?s|their)|"
    r"(?:logged|signed) in from (?:another|a different|an unknown|a strange)|"
    r"(?:e-?mail|password|phone number|recovery \w+) (?:was|has been|got|had been) changed|"
    r"(?:i )?(?:didn'?t|did not|never) (?:do|authori[sz]e|make|request) (?:that|this|those|these|"
    r"it)\b|without (?:a |any )?(?:password|authenticat\w*|login)|in plain ?text|"
    r"sends? [^.!?\n]{0,50}\bto (?:an? )?(?:unknown|third[- ]party|remote|external|random|"
    r"strange|suspicious) (?:server|domain|site|host|address|url))\b",
)
# "a login from Brazil": the capital tells a place from "a login from my phone".
_LOGIN_FROM = re.compile(
    r"(?i:\b(?:log ?in|sign-?in|access|logged in|signed in) from (?:\w+ ){0,2})[A-Z]\w+"
)
_DATA_LOSS = _lower_rx(
    r"\b(?:data loss|wiped|erased|reset (?:back )?to (?:0|zero)|(?:is|are|was|were|keeps?|started) "
    r"(?:\w+ )?deleting|lost \d+|"
    r"(?:deleted|removed) (?:\d+|my|our)\b|(?:resets?|wipes?) (?:\w+ ){0,3}(?:to )?factory "
    r"(?:settings|defaults)|factory[- ]reset (?:all|every|my|our)|lost (?:all|every|everything|my "
    r"(?:entire|whole)|our (?:entire|"
    r"whole)|(?:\w+ ){0,2}(?:years?|months?) of)|(?:deleted|removed) (?:all|every|everything)|"
    r"(?:all|every|entire|whole|everything)\b[^.!?\n]{0,50}\b(?:gone|vanished|disappeared|"
    r"missing|deleted|wiped|empty)|(?:shows?|showing|says|lists?) (?:an? )?(?:0|no|zero|empty) "
    r"(?:\w+ )?(?:backups?|files|data|items|scenes|devices|photos|messages|history|posts|progress|"
    r"records|projects|notes|contacts|saves?|songs|playlists|orders)|(?:years?|months?|weeks?) of "
    r"(?:\w+ ){0,2}(?:progress|data|work|photos|"
    r"notes|history|saves?)?\s?(?:\w+ ){0,2}(?:gone|lost|wiped|deleted|vanished)|(?:progress|"
    r"library|history|notes|files|photos|backups?|scenes|"
    r"settings|automations|data|saves?|save files?) (?:are |is |got |were |has |have )?(?:been )?"
    r"(?:gone|lost|missing|deleted|disappeared|vanished|wiped))\b",
)
_SAFETY = _lower_rx(
    r"\b(?:overheat\w*|(?:got|gets|getting|was|is|became) (?:really |very |extremely |too |"
    r"super )?hot\b|smok(?:e|ing|ed)\b|burn(?:ing|t|ed) (?:smell|plastic|out)|smell\w* (?:of |"
    r"like )?(?:burn\w*|plastic|hot|melt\w*|gas|smoke)|melt(?:ed|ing)|caught fire|on fire|fire "
    r"hazard|spark(?:s|ed|ing)?|(?:burn|black|scorch) marks?|swell(?:ed|ing)|swollen|hissing|"
    r"explod\w*|electric(?:al)? shock|"
    r"shocked me|injur\w*|(?:adults?|strangers?) (?:\w+ ){0,2}(?:he|she|they|my (?:son|"
    r"daughter|kid|child)) (?:doesn'?t|don'?t|does not) know|grooming|predator\w*|scorch\w*|carbon "
    r"monoxide|gas leak|choking hazard)\b",
)
_MONEY_WRONG = _lower_rx(
    r"\b(?:(?:charged|billed|debited) (?:me |us |them |customers )?(?:twice|two times|three "
    r"times|\d+ times|double|multiple times|again)|(?:two|three|\d+|double|duplicate) "
    r"(?:identical |pending )?(?:payments|charges|transactions)|payments? (?:are |is )?(?:failing|"
    r"declined)|card(?:s)? (?:are |is |being )?declined|declined on every card)\b",
)
_OUTAGE = _lower_rx(
    r"\b(?:(?:is|are|went|goes|go|been|being|was|were|it'?s|still|all|completely|totally|"
    r"seems?) down|down (?:for|again|since|right now|at the moment|here|too)|down(?=\?)|"
    r"offline|outage|unreachable|unavailable|not (?:loading|responding|reachable|working|syncing|"
    r"updating|saving|taking|accepting)|(?:on|by) (?:their|its|them|it)(?:sel(?:f|ves)| own)|"
    r"haven'?t (?:updated|synced|loaded|arrived)|can'?t get (?:into|in|on|to|past|any)|"
    r"none of (?:my|our|the) (?:\w+ ){1,2}(?:go through|work|load|sync|upload|arrive|show)|"
    r"having (?:issues|problems|trouble)|(?:problems?|issues?|trouble) with (?:the |your )?\w+ "
    r"(?:today|right now|tonight|this morning)|(?:nobody|no one|none of (?:us|them))\b[^.!?\n]"
    r"{0,40}\bcan (?:\w+ ){0,2}(?:connect|log|sign|access|reach|load|get|play|join|work|use|see)|"
    r"(?:won'?t|doesn'?t|don'?t|can'?t|cannot|couldn'?t|unable to|not able to|fails? to|failing "
    r"to) (?:even |any ?more |at all )?(?:log ?in|sign ?in|log on|connect|load|open|start|boot|go "
    r"through|reach|access|sync|upload|download|join|pay|check ?out|play|stream|send|receive|work|"
    r"turn on|launch|respond|save)|stopped (?:working|loading|syncing|responding|connecting)|"
    r"stop(?:ped)? working|keeps? (?:spinning|loading|crashing|timing out|disconnecting)|"
    r"just spin\w*|spinning|timing out|timed out|time-?outs?|time out|returning errors?|"
    r"(?:very |super |really |extremely |painfully )?slow|lagging|throwing (?:an? )?errors?|"
    r"(?:error|code|http|status)\W{0,3}\d{3,}|5\d\d (?:errors?|bad gateway|service unavailable|"
    r"internal)|50[0234]s|50[234]|lost (?:access|connection)|disconnect(?:ed|s)|locked out|"
    r"logged (?:\w+ )?out|log(?:s|ging)? (?:\w+ )?out every|permission denied|declined|"
    r"crash(?:es|ing|ed)?|boot ?loop|brick(?:ed|ing)|dead|died|not working|broken|"
    r"nothing (?:works|worked|loads|loaded|happens|updates|updated|syncs|synced|saves|saved|"
    r"arrives|arrived|shows|showed)|(?:don'?t|doesn'?t) go through|(?:is|are) failing|"
    r"fail(?:s|ed|ing)?|errors?|drain\w*|[45]0\d(?:ing|s)|stuck (?:on|at|in)|(?:page|screen|app|"
    r"site) is blank|"
    r"blank (?:page|screen)|disappeared|(?:weird|strange|suspicious) redirect|(?:all|everything) "
    r"(?:\w+ ){0,3}(?:at once|at the same time|simultaneously)|randomly (?:turn|switch|fire|"
    r"trigger|restart|reboot)\w*|invalid (?:credentials|password|token|session)|(?:never|doesn'?t|"
    r"didn'?t|don'?t) (?:arrives?|come|comes|show up|shows up))\b",
)
_BREADTH = _lower_rx(
    r"\b(?:for (?:me|us) and (?:my|our) \w+|(?:and|&) (?:my|our) (?:husband|wife|partner|kids?|"
    r"son|daughter|team|colleagues?|friends?|brother|sister|neighbou?rs?|family|flatmates?)|"
    r"neither (?:can|does|do|is|are) (?:my|our|anyone)|every (?:single )?(?:user|customer|member|"
    r"player|student|one of (?:us|them))|our (?:customers|users|clients|students|players|"
    r"members|visitors|guests)|any of (?:my|our) \w+|(?:whole|entire) \w+ (?:too|as well)|"
    r"whole (?:party|group|squad|lobby|server|family)|same (?:thing|problem|issue|here|story) "
    r"(?:at|for|with|in|on|over)|(?:at|in|for) my (?:parents|friends?|neighbou?rs?|sisters?|"
    r"brothers?|mum|mom|dad|office|work)'?s?\b|across (?:town|the (?:city|country|street))|"
    r"any(?:one|body) else|is it (?:just|only) me|or (?:is it )?just me|not (?:just|only) me|"
    r"not the only one|(?:for|to) (?:everyone|everybody)|everyone (?:is|else|here|in|on|has|i)|"
    r"everybody|all of us|same here|me too|others (?:are|have|report|say|see|in)|other (?:users|"
    r"people|players|customers|members|accounts|households|schools)|(?:several|many|multiple|lots "
    r"of|dozens of|hundreds of|a (?:few|couple of|dozen)) (?:other )?(?:users|people|members|"
    r"customers|players|households|friends|reports|posts|threads|accounts|of us|of them)|"
    r"(?:my|our|a) (?:colleague|co-?worker|neighbou?r|friend|sister|brother|wife|husband|partner|"
    r"mum|mom|dad|team ?mate|flatmate|roommate)s?'?s?\b[^.!?\n]{0,60}\b(?:too|as well|also|same|"
    r"has it|have it)|(?:whole|entire) (?:team|company|office|school|class|household|family|guild|"
    r"clan|organi[sz]ation|org|building|community|street|department|association)|all (?:of )?"
    r"(?:my|our) (?:\w+ ){0,2}(?:devices|accounts|customers|users|members|hubs|sites|machines|"
    r"players|computers|phones|bulbs|lights|homes|servers|projects|repos|students|staff|employees|"
    r"teachers|classes|stores|locations)|all (?:our|the|of the) (?:customers|users|members|"
    r"players|students|teachers|hubs|devices|servers|schools|clients)|(?:phone|laptop|tablet|"
    r"desktop|pc|mac)s?,? (?:and |\w+ ){0,3}(?:phone|laptop|tablet|desktop|pc|browser|mac)|every "
    r"(?:device|browser|page|region|account|customer|user|card|match|server)|across (?:all|every)|"
    r"widespread|worldwide|in (?:another|a different|other) (?:city|town|country|region|office)|"
    r"(?:reddit|discord|twitter|facebook|fb group|subreddit|mastodon)\b[^.!?\n]{0,40}\b(?:full of|"
    r"same|too|also|people|reports?|says?)|(?:none|all|every one|each) of our \w+|"
    r"(?:nobody|no one|none of us) (?:in|at|from|on) (?:my|our|the)|"
    r"(?:\d{2,}|dozens|hundreds|thousands) (?:of )?(?:users|people|customers|members|players|"
    r"schools|classrooms|hubs|devices|reports))\b",
)
_ONSET = _lower_rx(
    r"\b(?:since (?:this morning|this afternoon|this evening|tonight|last night|midnight|noon|"
    r"lunch(?:time)?|yesterday|about|around|an? hour|(?:a )?few (?:minutes|hours)|\d{1,2}(?:[:.h]"
    r"\d{2})?\s*(?:am|pm|utc|cet|cest|gmt|est|edt|pst|pdt|bst|o'?clock|h)?\b)|(?:for|in|over) the "
    r"(?:last|past) (?:few |couple of |\d+ )?(?:minutes?|hours?|mins?|hrs?)|(?:an?|one|two|"
    r"three|few|\d+|ten|twenty|thirty|couple of) (?:minutes?|mins?|hours?|hrs?) (?:ago|now)|"
    r"(?:\d+|two|three|four|five) times in (?:\d+|a few|ten|twenty|the last) (?:minutes?|mins?|"
    r"hours?)|overnight|all of a sudden|suddenly|right now|just now|as of (?:now|today|this "
    r"morning)|at the moment|since (?:about |around )?(?:\w+ )?(?:minutes?|hours?)|this morning|"
    r"last night|tonight|today|since (?:the )?(?:last|latest) (?:hour|few minutes)|for (?:the "
    r"(?:last |past )?)?(?:\d+|one|two|three|four|five|six|several|a few|a couple of|an?) "
    r"(?:hours?|hrs?|minutes?|mins?)(?! ago))\b",
)
# Shared infrastructure failing is everyone's problem even when one member reports it.
_SHARED_FAILURE = _lower_rx(
    r"\b(?:servers?|cloud|site|website|api|log ?in|checkout|payments?|store|service|platform|"
    r"backend|sync|network)\b (?:\w+ ){0,3}?(?:is|are|has been|have been|was|were|went|goes|"
    r"seems?|keeps?|'s)(?: \w+)? (?:down|offline|unreachable|unavailable|failing|returning errors?|"
    r"timing out|not (?:responding|loading|working)|[45]0\d(?:ing|s)?)\b|\b(?:servers?|cloud|site|"
    r"website|api|"
    r"log ?in|checkout|payments?|store|platform|backend|sync|network) (?:down|offline|broken|"
    r"unreachable|unplayable)\b(?! (?:the|a|an|my|your|our|to)\b)",
)
_RECURRING = _lower_rx(
    r"\b(?:every (?:few |couple of )?(?:days?|weeks?|nights?|mornings?|evenings?|months?)|"
    r"sometimes|occasionally|from time to time|now and then|once a (?:day|week|month))\b",
)
_STATUS_QUESTION = _lower_rx(
    rf"\b(?:(?:is|are) (?:the |your |our )?(?:\w+ ){{0,2}}{_THING} (?:down|offline|broken|"
    r"failing|having (?:issues|problems)|being attacked|still (?:up|working|running|taking|"
    r"accepting))|is (?:there|something) (?:an? )?(?:outage|incident|problem|issue|bug|"
    r"maintenance)?\s?(?:going on|happening|wrong|broken|on your|today)|is there (?:an? )?"
    r"(?:outage|incident|maintenance)|anything going on|what'?s (?:going on|happening)|on (?:your|"
    r"their) (?:end|side)|known (?:issue|outage|incident)|is (?:the team|staff|anyone|support) "
    r"aware|status page|what(?:'s| is) (?:\w+ )?(?:going on|happening)|did (?:something|anything) "
    r"(?:happen|change|break)|(?:did|has|have) "
    r"(?:the )?(?:\S+ ){0,2}(?:stop(?:ped)? working|been pulled|go(?:ne)? down)|"
    r"(?:is|are) (?:the )?\w+ working for (?:anyone|people|everyone|others|you)|working for "
    r"(?:anyone|everyone|people) else|is (?:it|this) (?:a )?(?:known|widespread)|"
    r"any(?:one|body) else(?:'s)? (?:\w+ ){0,2}(?:having|seeing|getting|experiencing|notic\w*|"
    r"unable|can'?t|with|affected|lose|losing|lost|stuck|reset|gone|missing|broken|down|offline)|"
    r"(?:does|do|is) any(?:one|body) "
    r"(?:else )?(?:have|having|get|getting|see|seeing) (?:problems?|issues?|trouble|errors?)|"
    r"is it (?:just|only) me|or (?:is it )?just me|not (?:just|only) me|same for you|for "
    r"any(?:one|body)\?|any news on (?:the )?(?:\w+ )?(?:problem|issue|outage|bug|incident)|"
    r"should (?:we|i) (?:hold|stop|pause|roll ?back))",
)
_WORRY = _lower_rx(
    r"\b(?:should (?:i|we) be (?:worried|concerned)|scared|panic\w*|is (?:my|our) (?:data|account|"
    r"money|info\w*) safe|what (?:do|should|can) (?:i|we) do\b|(?:please )?help ?!|urgent|asap|"
    r"emergency)",
)
_WARNING = _lower_rx(
    r"\b(?:psa|heads[- ]up|warning|beware|be careful|careful with|do not (?:update|install|"
    r"upgrade|click)|don'?t (?:update|install|upgrade|click|open)|hold off|check (?:your|their) "
    r"(?:accounts?|logs|diagnostics|statements|devices)|before installing|others should check)\b",
)
_NO_TROUBLE = re.compile(
    r"\b(?:without|zero|no|0|never (?:had|saw|seen) (?:an?|any)|not (?:a|one)) (?:a |any |one |"
    r"single |more )*(?:crash(?:es)?|downtime|outages?|problems?|issues?|reboots?|incidents?|"
    r"errors?|failures?|hiccups?|disconnects?|bugs?)\b",
    re.IGNORECASE,
)
_FEEDBACK_ASK = _lower_rx(
    r"\b(?:(?:thoughts|feedback|suggestions|ideas|opinions)\s*\?|(?:feedback|thoughts|"
    r"suggestions|ideas|opinions|comments|reviews?|prs|issues) (?:and \w+ )?(?:are |is )?(?:very "
    r")?(?:welcome|appreciated)|what do you (?:all |guys )?think|let me know (?:what|if|how)|does "
    r"(?:it|this) (?:work|help) for you|anyone (?:want|interested)|would (?:anyone|you) (?:use|"
    r"like|want))",
)
_SAME_HERE = _lower_rx(
    r"\b(?:same here|me too|same (?:problem|issue)|also (?:down|offline|seeing|having|affected)|"
    r"\+1|mine too|here too|ditto|confirm(?:ed)?)\b",
)
_STAFF_WORDS = _lower_rx(
    r"\b(?:staff|support(?: team)?|admins?|moderators?|mods|devs|developers|the team|"
    r"community team|customer service)\b",
)
# Who a grievance is aimed at: the company and its product (complaint) or another member (conflict).
_COMPANY_TARGET = _lower_rx(
    r"\b(?:you guys|you people|your (?:team|company|support|staff|devs|developers|moderation|"
    r"customer service|store|shop|product|app|service|update|pricing|prices|policy|platform|"
    r"site|website)|(?:the |customer )?support|customer service|the (?:company|devs|developers|"
    r"team|staff|store|shop|brand|manufacturer|vendor)|refund|ticket|subscription|subscriber|"
    r"price|pricing|paid|paying|charged|order(?:ed)?|shipping|warranty|update|patch|redesign|"
    r"release|version|firmware|premium|plan)\b",
)
_MOD_REPORT = _lower_rx(
    r"\breport(?:ing|ed)? (?:this|you|him|her|them|it|your \w+) to the (?:mods?|moderators?|"
    r"admins?)\b|\b(?:mods?|moderators?|admins?)\b,? (?:please|pls|can|could|would|need to|should|"
    r"have to|must)\b[^\n]{0,120}\b(?:user|member|poster|he|she|they|him|her|"
    r"them|insult\w*|harass\w*|thread|following|mock\w*|attack\w*|spam\w*)\b|\b(?:this|that) "
    r"(?:user|member|guy|person|poster) (?:has|is|keeps|always|been)\b|\b(?:two|some|these|those|"
    r"several) (?:users|members|people) (?:have been|are|keep) (?:trading|throwing|fighting|"
    r"arguing|insult\w*)|\b(?:following|stalking|harass\w*|bullying) me\b",
)
_HOSTILE = _lower_rx(
    r"\b(?:idiot|moron|stupid|dumb|clueless|troll\w*|shut up|get lost|nobody asked|rtfm|"
    r"clown|pathetic|ridiculous|you'?re wrong|you are wrong|don'?t know what you'?re talking|"
    r"know[- ]it[- ]all|condescending|arrogant|toxic|fanboy|grow up|get a clue|go away|trash|"
    r"junk|amateur\w*|uninstall|bots?|noobs?|lazy)\b",
)
_ANGER = re.compile(
    r"\b(?:furious|livid|unacceptable|ridiculous|outrageous|disgrace\w*|pathetic|worst|"
    r"scam|ripoff|rip-off|garbage|rubbish|waste of money|never again|fed up|sick (?:and tired )?"
    r"of|!!+)|[A-Z]{4,}(?:\s+[A-Z]{2,}){1,}",
)

# Sentiment fixes for VADER's blind spots.
_PROBLEM_PHRASES = _lower_rx(
    r"\b(?:not|isn'?t|aren'?t|wasn'?t|doesn'?t|don'?t|didn'?t|won'?t|can'?t|cannot|never|no "
    r"longer|stopped|still not|fails? to|unable to)\b\s+(?:\w+\s+){0,2}?(?:work\w*|connect\w*|"
    r"respond\w*|load\w*|sync\w*|pair\w*|turn\w* on|start\w*|fix\w*|help\w*|answer\w*|update\w*|"
    r"show\w*|save\w*|boot\w*|reply|replied|function\w*)\b"
    r"|\b(?:still|again|keeps?)\s+(?:\w+\s+)?(?:broken|failing|crashing|dropping|disconnect\w*|"
    r"offline|dead|buggy|down)\b"
    r"|\b(?:broken|bricked|dead|offline|unreachable|crash\w*|buggy|laggy|unusable|unstable)\b",
)
_BITTER = _lower_rx(
    r"\b(?:thanks for nothing|thanks a lot,? (?:not|now)|no thanks to|great job breaking|"
    r"well done,? (?:guys|team|everyone)|good job,? (?:guys|team|everyone)|what a joke)\b",
)
_SECOND_PERSON_BLAME = _lower_rx(
    r"\b(?:you|your|you'?re|you'?ve)\b[^.!?\n]{0,60}\b(?:wrong|false|lie|lying|rude|claim|"
    r"keep|always|never|only|think|prove|delete|belong|stop|twist|lectur|mock|pretend|decide|"
    r"show up|been \w+ing)\w*",
)
_DIRECTIVE = _lower_rx(
    r"\b(?:i'?ve|i have) (?:already )?(?:asked|told) you\b|\bkeep (?:your|it|this|that|the) [\w "
    r"]{0,20}"
    r"\bout of\b|\b(?:please|just) (?:stop|don'?t|leave)\b|\b(?:stop|quit) \w+ing\b",
)
_CELEBRATION_SHAPE = _lower_rx(
    r"\b(?:today|finally|turned \d+|turns \d+|years?|months?|\d[\d,.]*(?:st|nd|rd|th)?|"
    r"first|last day|proud|thank(?:s| you)|grateful)\b",
)
_MAKER_SHAPE = _lower_rx(
    r"\b(?:i|we)(?:'ve| have)? (?:\w+ ){0,2}(?:\w+ed|made|built|wrote|found)\b|"
    r"\b(?:attached|below|link|inside|feel free)\b",
)
_CONTRAST = re.compile(r"\b(?:but|however|though|although|yet|except)\b", re.IGNORECASE)
_POLITE_FILLER = re.compile(
    r"\b(?:thanks?(?: you)?(?: so much| a lot)? (?:in advance|for (?:any|your) help|for reading)|"
    r"any help (?:is |would be )?(?:appreciated|welcome)|tia|cheers|kind regards|best regards|"
    r"regards|please help)\b",
    re.IGNORECASE,
)
_SARCASM = _lower_rx(
    r"\b(?:great|wonderful|fantastic|awesome|brilliant|lovely|perfect|nice|love (?:how|that|it "
    r"when)|thanks a lot|thank you so much|just what i needed|real(?:ly)? helpful),?\s+"
    r"(?:another|yet another|now|so now|just|thanks for|\.\.\.)",
)

_CODE_BLOCK = re.compile(r"```.*?(?:```|\Z)|~~~.*?(?:~~~|\Z)", re.DOTALL)
_INLINE_CODE = re.compile(r"`[^`\n]{0,200}`")
_QUOTE_BLOCK = re.compile(r"\[quote[^\]]*\].*?\[/quote\]", re.DOTALL | re.IGNORECASE)
_HTML_TAG = re.compile(r"<[^>\n]{1,200}>")
_MD_LINK = re.compile(r"!?\[([^\]\n]{0,200})\]\(([^)\s]{0,500})\)")
_QUOTED_LINE = re.compile(r"^\s*>.*$", re.MULTILINE)
_INDENTED_CODE = re.compile(r"(?:^(?: {4}|\t).*(?:\n|$)){2,}", re.MULTILINE)


@dataclass
class _Features:
    text: str  # cleaned title + text, what the cues see
    low: str = ""  # the same, lowercased: most patterns read this one (faster than IGNORECASE)
    scores: dict[MomentType, float] = field(default_factory=lambda: dict.fromkeys(T, 0.0))
    evidence: list[str] = field(default_factory=list)
    signals: list[str] = field(default_factory=list)
    addresses_member: bool = False  # the post answers or names another (non-staff) member
    names_member: bool = False  # ... by @handle or by name: whatever is negative is aimed there
    answers_staff: bool = False  # replies to staff: a grievance is aimed at the company
    sentiment: float = 0.0
    sentiment_label: SentimentLabel = "neutral"


def clean_text(text: str, limit: int = MAX_CHARS) -> str:
    """Text the cues can read: bounded length, no code blocks, quotes, HTML tags or markup links."""
    text = text[: limit + 2000]  # a little slack so a fence cut at the limit still closes
    text = text.replace("\u2019", "'").replace("\u2018", "'").replace("\u201c", '"')
    text = text.replace("\u201d", '"').replace("\r\n", "\n")
    text = _CODE_BLOCK.sub(" ", text)
    text = _QUOTE_BLOCK.sub(" ", text)
    text = _QUOTED_LINE.sub(" ", text)
    text = _INDENTED_CODE.sub(" ", text)
    text = _INLINE_CODE.sub(" ", text)
    text = _MD_LINK.sub(lambda m: f"{m.group(1)} {m.group(2)}", text)
    text = _HTML_TAG.sub(" ", text)
    text = re.sub(r"[ \t]+", " ", text)
    return text[:limit].strip()


def _reference_day(post: Post) -> date:
    return post.created_at.date() if post.created_at is not None else date.today()


def tenure_days(member: Member, on: date) -> int | None:
    """Days between the member joining and `on`, or None when the join date is unknown."""
    if member.joined_at is None:
        return None
    return max(0, (on - member.joined_at).days)


def is_newcomer(member: Member, on: date, text: str = "") -> bool:
    """Few posts or a recent join date, or the member says they are new."""
    days = tenure_days(member, on)
    if member.post_count is not None and member.post_count <= 3:
        return True
    if days is not None and days <= 30 and (member.post_count is None or member.post_count <= 10):
        return True
    return member.post_count is None and days is None and bool(_NEWCOMER_TEXT.search(text.lower()))


def _member_signals(post: Post, text: str) -> list[str]:
    member, on = post.member, _reference_day(post)
    days = tenure_days(member, on)
    signals: list[str] = []
    if member.post_count is not None and member.post_count <= 1:
        signals.append("first_post")
    if is_newcomer(member, on, text):
        signals.append("newcomer")
    if (days is not None and days >= 730) or (member.post_count or 0) >= 500:
        signals.append("long_time_member")
    return signals


def _content_words(text: str) -> set[str]:
    stop = {
        "the", "and", "for", "with", "that", "this", "have", "has", "but", "not", "are", "was",
        "you", "your", "our", "after", "from", "just", "again", "still", "when", "what", "they",
        "hub", "app", "any", "can", "does", "did", "about", "there", "been", "will", "would",
        "thanks", "thank", "hi", "hello", "please", "issue", "problem", "same",
    }  # fmt: skip
    return {w for w in re.findall(r"[a-z][a-z0-9.]{2,}", text.lower()) if w not in stop}


def _repeated_problem(post: Post, text: str) -> str | None:
    match = _REPEATED.search(text)
    if match:
        return f"repeated_problem: '{match.group(0)}'"
    words = _content_words(text)
    for earlier in [*post.member.staff_interactions, *post.member.recent_posts]:
        shared = words & _content_words(earlier)
        if len(shared) >= 2:
            return f"repeated_problem: earlier interaction about {', '.join(sorted(shared)[:3])}"
    return None


# Words that start a post with a capital and a comma without naming anyone ("Honestly, you ...").
_NOT_A_NAME = frozenset(
    "hi hey hello thanks thank sorry well ok okay so yes no honestly seriously look listen "
    "mods admins guys folks everyone all also again update edit ps note wow ugh lol oh and but "
    "still anyway actually basically friends people team support staff yeah nope please".split()
)
_VOCATIVE = re.compile(
    r"(?:^|\n|[.!?]\s)\s*(?:(?:ok|okay|look|listen|well|sorry|honestly|hey|dude|mate|so|right|"
    r"yeah|no),?\s+)?@?(?-i:([A-Z][a-z]{1,15})),\s",
    re.IGNORECASE,
)
_TRAILING_VOCATIVE = re.compile(r",\s*(?-i:([A-Z][a-z]{1,15}))[.!?]*\s*$")
_SECOND_PERSON = _lower_rx(
    r"\b(?:you|your|you'?re|you'?ve|yours|u|ur)\b",
)


def _thread_signals(post: Post, feats: _Features) -> None:
    """Hostility and 'same here' in the thread; whom the member is answering."""
    others = [m for m in post.thread if m.author is None or m.author != post.member.handle]
    hostile = [m for m in others if not m.is_staff and _HOSTILE.search(m.text.lower())]
    if hostile:
        feats.signals.append("heated_thread")
        feats.scores[T.CONFLICT] += 0.8 + 0.4 * min(len(hostile), 3)
        feats.evidence.append(f"thread: {len(hostile)} hostile message(s)")
    same = [
        m for m in post.thread if _SAME_HERE.search(low := m.text.lower()) or _BREADTH.search(low)
    ]
    if len(same) >= 2:
        feats.signals.append("many_affected")
        feats.scores[T.CRISIS] += 1.0 + 0.5 * min(len(same), 4)
        feats.evidence.append(f"thread: {len(same)} members report the same")
    member_authors = {m.author.lower() for m in others if m.author and not m.is_staff}
    staff_authors = {m.author.lower() for m in post.thread if m.author and m.is_staff}
    mentioned = {h.lower().rstrip(".") for h in re.findall(r"@([\w.-]+)", feats.text)}
    if mentioned & staff_authors or _STAFF_WORDS.search(feats.low):
        feats.signals.append("mentions_staff")
    mentioned -= staff_authors | {"mods", "mod", "admin", "admins", "staff", "support", "team"}
    name_parts = {
        part
        for author in member_authors
        for part in re.split(r"[_.\-\d]+", author)
        if len(part) >= 3
    }
    words = set(re.findall(r"[a-z]+", feats.text.lower()))
    second_person = _SECOND_PERSON.search(feats.low) is not None
    vocative = next(
        (
            m.group(1)
            for m in _VOCATIVE.finditer(feats.text)
            if m.group(1).lower() not in _NOT_A_NAME
        ),
        None,
    )
    trailing = _TRAILING_VOCATIVE.search(feats.text)
    if vocative is None and trailing and trailing.group(1).lower() not in _NOT_A_NAME:
        vocative = trailing.group(1)
    last = others[-1] if others else None
    feats.answers_staff = last is not None and last.is_staff
    answering = last is not None and not last.is_staff and second_person
    if mentioned or (name_parts & words) or answering or (vocative and second_person):
        feats.addresses_member = True
        feats.names_member = bool(mentioned or vocative)
        feats.evidence.append("addresses another member")


def _score_cues(feats: _Features) -> None:
    counted: dict[MomentType, int] = dict.fromkeys(T, 0)
    for cue in CUES:
        match = cue.pattern.search(feats.text if cue.cased else feats.low)
        if match is None:
            continue
        # Diminishing returns: a pile of weak cues should not beat one strong one.
        factor = 1.0 / (1 + 0.35 * counted[cue.type])
        feats.scores[cue.type] += cue.weight * factor
        counted[cue.type] += 1
        feats.evidence.append(f"{cue.type.value}: '{match.group(0).strip()[:60]}'")


def _question_score(feats: _Features) -> float:
    """How much the post asks something, capped: asking is common inside other moments too."""
    total = 0.0
    for weight, pattern, _ in _QUESTION_CUES:
        match = pattern.search(feats.low)
        if match:
            total += weight
            feats.evidence.append(f"question: '{match.group(0).strip()[:40]}'")
    return min(total, QUESTION_CAP)


def _crisis_evidence(feats: _Features) -> None:
    """A crisis is a failure that is broad (others too), sudden (since a time), or dangerous
    (security, data loss, money taken wrongly, physical harm), whatever the tone: a calm
    "is anyone else unable to log in?" counts as much as a shout."""
    text, scores = feats.low, feats.scores
    # harm that makes a crisis on its own: (match, signal, weight, what the evidence calls it)
    harms = (
        (
            _SECURITY.search(text) or _LOGIN_FROM.search(feats.text),
            "security",
            3.0,
            "security or privacy",
        ),
        (_DATA_LOSS.search(text), "data_loss", 2.2, "data loss"),
        (_SAFETY.search(text), "safety", 3.0, "physical danger"),
        (_MONEY_WRONG.search(text), None, 2.0, "money taken wrongly"),
    )
    for match, signal, weight, label in harms:
        if match:
            if signal:
                feats.signals.append(signal)
            scores[T.CRISIS] += weight
            feats.evidence.append(f"crisis: {label} '{match.group(0)[:40]}'")
    failure = _OUTAGE.search(text)
    harm = any(match for match, *_ in harms)
    breadth = _BREADTH.search(text)
    onset = _ONSET.search(text)
    status = _STATUS_QUESTION.search(text)
    if status:
        # "Is the site down?", "is anyone else unable to log in?": asking whether it is broken
        # for everyone is how many members report an incident.
        scores[T.CRISIS] += 2.0 if failure or harm else 1.2
        feats.evidence.append(f"crisis: asks if it is broken for all '{status.group(0)[:30]}'")
    if not (failure or harm):
        return
    if failure:
        scores[T.CRISIS] += 0.6
        feats.evidence.append(f"crisis: failure '{failure.group(0)[:30]}'")
    shared = _SHARED_FAILURE.search(text)
    if shared:
        scores[T.CRISIS] += 1.5
        feats.evidence.append(f"crisis: a shared service fails '{shared.group(0)[:40]}'")
    if breadth:
        if "many_affected" not in feats.signals:
            feats.signals.append("many_affected")
        scores[T.CRISIS] += 2.0
        feats.evidence.append(f"crisis: others affected '{breadth.group(0)[:40]}'")
    if onset and not _RECURRING.search(text):
        scores[T.CRISIS] += 1.2
        feats.evidence.append(f"crisis: since a time '{onset.group(0)[:30]}'")
    else:
        onset = None
    if _WARNING.search(text):
        scores[T.CRISIS] += 1.0
        feats.evidence.append("crisis: warns others")
    worry = _WORRY.search(text)
    if worry:
        scores[T.CRISIS] += 0.8
        feats.evidence.append(f"crisis: alarm '{worry.group(0)[:30]}'")
    if not (harm or breadth or onset) and scores[T.CONTRIBUTION] >= 2.5:
        # A guide or a fix about an error is not an incident report.
        scores[T.CRISIS] *= 0.5


def _conflict_evidence(feats: _Features, blame: bool) -> None:
    """Conflict is aimed at a member: a named or answered member plus an accusation, or a call
    to the moderators about someone. The same words aimed at the company are a complaint."""
    scores, text = feats.scores, feats.low
    lexical = scores[T.CONFLICT]
    directive = _DIRECTIVE.search(text) is not None
    if _MOD_REPORT.search(text):
        scores[T.CONFLICT] += 2.0
        feats.evidence.append("conflict: reports a member to the moderators")
    if not feats.addresses_member:
        return
    if lexical > 0:
        scores[T.CONFLICT] += 1.5
        feats.evidence.append("conflict: the clash is aimed at a member")
    if blame or directive:
        scores[T.CONFLICT] += 1.5
        feats.evidence.append("conflict: tells another member off")


def _score(post: Post) -> _Features:
    raw = "\n".join(part for part in (post.title, post.text) if part)
    text = _NO_TROUBLE.sub("trouble-free", clean_text(raw))
    feats = _Features(text=text, low=text.lower())
    feats.signals.extend(_member_signals(post, text))
    _score_cues(feats)
    _thread_signals(post, feats)
    _crisis_evidence(feats)
    repeated = _repeated_problem(post, feats.low)
    if repeated:
        feats.signals.append("repeated_problem")
        feats.evidence.append(repeated)
        # The same trouble again is a grievance even when it is told calmly.
        newcomer = "newcomer" in feats.signals
        feats.scores[T.COMPLAINT] += 0.8 if feats.scores[T.COMPLAINT] > 0 or not newcomer else 0.0

    asked = _question_score(feats)
    question = (0.5 if asked > 0 else 0.25) + asked  # `question` is also the fallback
    if asked >= 2.0 and not _FEEDBACK_ASK.search(feats.low):
        # "I made a scene that stops at 50%. Is there a max duration?": the post asks for help;
        # what was made or reached is context (asking for feedback on one's work is not).
        feats.scores[T.CONTRIBUTION] *= 0.6
        feats.scores[T.MILESTONE] *= 0.6
    _structural(feats, raw, asked)
    newcomer = "newcomer" in feats.signals
    # "Is the cloud down?", "Why does every update make it slower?": the asking serves another
    # moment. A newcomer's first question stays the moment unless it reports a crisis or a clash.
    others = (T.CRISIS, T.CONFLICT) if newcomer else (T.CRISIS, T.COMPLAINT, T.CONFLICT)
    strongest = max(feats.scores[kind] for kind in others)
    if strongest >= SUBORDINATE_AT + (1.0 if newcomer else 0.0):
        question *= 0.7
    if newcomer:
        # A greeting wrapped around a real question is still a first question.
        feats.scores[T.FIRST_QUESTION] = question + (0.6 if asked > 0 else 0.0)
        feats.scores[T.FIRST_QUESTION] += 0.4 if asked >= 2.0 else 0.0
        feats.scores[T.QUESTION] = question * 0.4
        # A newcomer's greeting is a welcome moment unless a real question dominates;
        # a newcomer who asks nothing is usually saying hello.
        if feats.scores[T.WELCOME] > 0 and asked < 1.5:
            feats.scores[T.WELCOME] += 0.8
        if asked == 0:
            feats.scores[T.WELCOME] += 0.8
    else:
        feats.scores[T.QUESTION] = question
        # Introductions from members with a history are rare; weaken greetings.
        feats.scores[T.WELCOME] *= 0.5
        feats.scores[T.FIRST_QUESTION] = 0.0
    return feats


def _structural(feats: _Features, raw: str, asked: float) -> None:
    """Votes from the shape of the post rather than its phrases: how the member feels, whom the
    grievance is aimed at, whether something made or celebrated is being shown."""
    sentiment, feats.sentiment_label = member_sentiment(raw)
    feats.sentiment = sentiment
    text = feats.low
    negative = max(0.0, -sentiment - 0.15)
    blame = _SECOND_PERSON_BLAME.search(text) is not None
    _conflict_evidence(feats, blame)
    if feats.scores[T.CONTRIBUTION] >= 2.0:
        negative *= 0.4  # a fix or a repro talks about problems without being upset
    problem = _PROBLEM_PHRASES.search(text) is not None or _OUTAGE.search(text) is not None
    if "repeated_problem" in feats.signals and (problem or "mentions_staff" in feats.signals):
        feats.scores[T.COMPLAINT] += 1.0
    if negative > 0:
        at_company = feats.answers_staff or _COMPANY_TARGET.search(text) is not None
        at_member = feats.addresses_member and (
            feats.scores[T.CONFLICT] > 0 or blame or feats.names_member
        )
        target = T.CONFLICT if at_member and not at_company else T.COMPLAINT
        weight = 2.2 * negative * (0.5 if asked >= 1.5 else 1.0)
        feats.scores[target] += weight
        feats.evidence.append(f"{target.value}: negative sentiment {sentiment:+.2f}")
    intensity = text.count("!") + len(re.findall(r"\b[A-Z]{4,}\b", raw))
    if negative > 0 and intensity >= 2:
        feats.scores[T.COMPLAINT] += 0.5
    newcomer = "newcomer" in feats.signals
    if sentiment <= -0.25:
        feats.scores[T.MILESTONE] *= 0.5  # "two years of progress gone" is not a celebration
    repeated = "repeated_problem" in feats.signals
    if sentiment >= 0.0 and asked == 0 and not problem and not newcomer and not repeated:
        # VADER reads many celebrations as neutral ("turned 1 today!"); the shape still tells.
        if _CELEBRATION_SHAPE.search(text):
            feats.scores[T.MILESTONE] += 0.6 + (0.4 if "!" in text else 0.0)
        if _MAKER_SHAPE.search(text):
            feats.scores[T.CONTRIBUTION] += 0.6


# Sentiment ------------------------------------------------------------------------------------


# Words VADER does not know (or under-weights) that carry clear feeling in product communities.
DOMAIN_LEXICON: dict[str, float] = {
    "intrusive": -1.5, "clunky": -1.5, "buggy": -1.8, "laggy": -1.5, "unreliable": -1.8,
    "overpriced": -1.8, "flimsy": -1.5, "crushed": -1.5, "damaged": -1.5, "bricked": -2.5,
    "bricking": -2.5, "flickering": -1.0, "offline": -1.0, "outage": -2.0, "downtime": -1.5,
    "crash": -1.5, "crashes": -1.5, "crashing": -1.8, "disconnects": -1.2, "unusable": -2.2,
    "unresponsive": -1.5, "regression": -1.2, "wiped": -2.0, "vanished": -1.5, "glitchy": -1.5,
    "sluggish": -1.2, "shipped": 1.2, "milestone": 1.5, "anniversary": 1.8, "merged": 1.0,
    "congrats": 2.0, "kudos": 2.0, "thrilled": 2.5, "woohoo": 2.5, "proud": 2.0,
}  # fmt: skip


@lru_cache(maxsize=1)
def _vader() -> SentimentIntensityAnalyzer:
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    analyzer = SentimentIntensityAnalyzer()
    analyzer.lexicon.update(DOMAIN_LEXICON)
    return analyzer


def _compound(text: str) -> float:
    return float(_vader().polarity_scores(text)["compound"])


def member_sentiment(text: str) -> tuple[float, SentimentLabel]:
    """The member's sentiment in [-1, 1] and its label, with VADER's blind spots patched."""
    text = clean_text(text, limit=5000)
    if not text:
        return 0.0, "neutral"
    text = _POLITE_FILLER.sub(" ", text)
    text = _NO_TROUBLE.sub("trouble-free", text)  # "500 days without a crash" is good news
    score = _compound(text)
    # "thanks, but ..." and "great update, however ...": the part after the contrast counts most.
    contrasts = list(_CONTRAST.finditer(text))
    if contrasts:
        contrast = contrasts[-1]
        after = text[contrast.end() :].strip()
        if len(after) > 8:
            score = 0.3 * score + 0.7 * _compound(after)
    low = text.lower()
    problems = len(_PROBLEM_PHRASES.findall(low))
    # Loss, exposure and danger are bad news however VADER reads the words around them
    # ("two years of progress gone" scores positive on "progress").
    problems += sum(1 for harm in (_DATA_LOSS, _SECURITY, _SAFETY) if harm.search(low))
    if problems:
        score = min(score, 0.0) - 0.25 * min(problems, 3)
    if _SARCASM.search(low) and problems:
        score = min(score, -0.4)
    if _HOSTILE.search(low) or _BITTER.search(low):
        score = min(score, -0.35)
    score = max(-1.0, min(1.0, score))
    label: SentimentLabel = "neutral"
    if score >= 0.15:
        label = "positive"
    elif score <= -0.15:
        label = "negative"
    return round(score, 3), label


# Decision -------------------------------------------------------------------------------------


def _urgency(kind: MomentType, signals: Sequence[str], sentiment: float, text: str) -> Urgency:
    if kind is T.CRISIS:
        if {"security", "data_loss", "many_affected", "safety"} & set(signals):
            return Urgency.CRITICAL
        return Urgency.HIGH
    if kind is T.COMPLAINT:
        if "repeated_problem" in signals or sentiment <= -0.6 or _ANGER.search(text):
            return Urgency.HIGH
        return Urgency.NORMAL
    if kind is T.CONFLICT:
        return (
            Urgency.HIGH
            if "heated_thread" in signals or _HOSTILE.search(text.lower())
            else Urgency.NORMAL
        )
    if kind in (T.WELCOME, T.MILESTONE, T.CONTRIBUTION):
        return Urgency.LOW
    return Urgency.NORMAL


def _confidence(scores: dict[MomentType, float], best: MomentType) -> float:
    ordered = sorted(scores.values(), reverse=True)
    top = ordered[0]
    second = ordered[1] if len(ordered) > 1 else 0.0
    if top <= 0:
        return 0.0
    margin = (top - second) / top
    strength = min(1.0, top / 4.0)
    return round(max(0.05, min(0.99, 0.35 + 0.4 * margin + 0.25 * strength)), 3)


def _require_text(post: Post) -> None:
    if not (post.text or "").strip() and not (post.title or "").strip():
        raise InputError(
            "The post is empty; nothing to classify",
            hint="send the post's text (and title, if any)",
        )


def classify_post(
    post: Post,
    *,
    embedder: Embedder | None = None,
    vector: Sequence[float] | None = None,
) -> Moment:
    """The moment of impact of `post`. Raises InputError if the post is empty.

    Without `embedder` or `vector`: the weighted cues alone (no model, `method="rules"`). With
    the bundled embedder (or a precomputed `vector` of `embedding_text(post)` in its space), the
    learned layer of `copilot.moments_model` decides the type, the rules' verdict counting as one
    vote (`method="rules+embed"`); urgency, sentiment and signals stay the rules'. An embedder of
    another vector space, or one that fails, leaves the rules' verdict and says why in
    `evidence`: classifying never fails because the optional layer is missing.
    """
    _require_text(post)
    feats = _score(post)
    best = max(feats.scores, key=lambda kind: (feats.scores[kind], -list(T).index(kind)))
    # Crisis beats complaint when both fire and signals say it is broad or dangerous.
    if (
        best is T.COMPLAINT
        and feats.scores[T.CRISIS] >= feats.scores[T.COMPLAINT] - 0.5
        and ({"security", "data_loss", "many_affected", "safety"} & set(feats.signals))
    ):
        best = T.CRISIS
    sentiment, label = feats.sentiment, feats.sentiment_label
    signals = list(dict.fromkeys(feats.signals))
    rules = Moment(
        type=best,
        urgency=_urgency(best, signals, sentiment, feats.text),
        sentiment=sentiment,
        sentiment_label=label,
        signals=signals,
        confidence=_confidence(feats.scores, best),
        scores={kind.value: round(value, 3) for kind, value in feats.scores.items()},
        method="rules",
        evidence=list(dict.fromkeys(feats.evidence))[:20],
    )
    if embedder is None and vector is None:
        return rules
    return _with_embedding(post, feats.text, rules, embedder, vector)


def _with_embedding(
    post: Post,
    text: str,
    rules: Moment,
    embedder: Embedder | None,
    vector: Sequence[float] | None,
) -> Moment:
    """The learned layer's verdict on top of `rules`, or `rules` with the reason it was not."""
    from copilot.moments_model import embedding_text, extra_features, load_model

    def rules_because(reason: str) -> Moment:
        return rules.model_copy(
            update={"evidence": [f"embed: not used ({reason})"] + rules.evidence}
        )

    try:
        model = load_model()
        if vector is None:
            assert embedder is not None
            if embedder.name != model.embedder:
                return rules_because(f"embedder {embedder.name}, model needs {model.embedder}")
            vector = embedder.embed_query(embedding_text(post))
        extra = extra_features(post, rules.signals, embedding_text(post))
        probs = model.decide(vector, extra, rules.type.value)
    except MomentsError as exc:
        log.warning("moments: learned layer unavailable, rules decide: %s", exc.message)
        return rules_because(exc.message)
    kind = MomentType(max(probs, key=lambda name: probs[name]))
    note = f"{model.version}: {kind.value} p={probs[kind.value]:.2f}; rules said {rules.type.value}"
    rule_scores = ", ".join(f"{k} {v:g}" for k, v in rules.scores.items() if v > 0)
    return rules.model_copy(
        update={
            "type": kind,
            "urgency": _urgency(kind, rules.signals, rules.sentiment, text),
            "confidence": round(max(0.0, min(1.0, probs[kind.value])), 3),
            "scores": {name: round(p, 3) for name, p in probs.items()},
            "method": "rules+embed",
            "evidence": [note, f"rules scores: {rule_scores}", *rules.evidence][:22],
        }
    )


# LLM option -----------------------------------------------------------------------------------


def _first_json_object(text: str) -> dict[str, Any] | None:
    """The first parseable {...} in `text` (models wrap JSON in prose or code fences)."""
    start = text.find("{")
    while start != -1:
        depth = 0
        in_string = False
        escape = False
        for index in range(start, len(text)):
            char = text[index]
            if in_string:
                if escape:
                    escape = False
                elif char == "\\":
                    escape = True
                elif char == '"':
                    in_string = False
            elif char == '"':
                in_string = True
            elif char == "{":
                depth += 1
            elif char == "}":
                depth -= 1
                if depth == 0:
                    value = _loads_lenient(text[start : index + 1])
                    if value is None:
                        break
                    return value
        start = text.find("{", start + 1)
    return None


def _loads_lenient(candidate: str) -> dict[str, Any] | None:
    """json.loads, then once more after the usual small-model slips (single quotes, trailing
    commas)."""
    for attempt in (candidate, re.sub(r",\s*}", "}", candidate.replace("'", '"'))):
        try:
            value = json.loads(attempt)
        except json.JSONDecodeError:
            continue
        return value if isinstance(value, dict) else None
    return None


def _member_context(post: Post) -> dict[str, Any]:
    member, on = post.member, _reference_day(post)
    return {
        "handle": member.handle or "",
        "post_count": member.post_count,
        "tenure_days": tenure_days(member, on),
        "roles": member.roles,
        "staff_interactions": member.staff_interactions[-3:],
    }


def classify_post_llm(post: Post, model: ChatModel) -> Moment:
    """Ask `model` for the moment as JSON; fall back to `classify_post` when it is unusable.

    The rules still supply signals and sentiment; the model decides type and urgency.
    """
    from copilot.llm.base import complete
    from copilot.prompts import render_prompt

    rules = classify_post(post)
    text = clean_text(post.text, limit=6000)
    prompt = render_prompt(
        SYSTEM_TEMPLATE,
        USER_TEMPLATE,
        {
            "title": post.title or "",
            "text": text,
            "member": _member_context(post),
            "thread": [
                {"author": m.author or "member", "is_staff": m.is_staff, "text": m.text[:600]}
                for m in post.thread[-4:]
            ],
            "signals": rules.signals,
            "types": [kind.value for kind in T],
        },
    )
    options = GenerationOptions(temperature=0.0, max_tokens=80, seed=0)
    try:
        reply = complete(model, prompt.messages, options).text
    except LLMError as exc:
        return rules.model_copy(
            update={
                "method": "llm-fallback",
                "evidence": [f"llm call failed ({exc}); used the rules", *rules.evidence],
            }
        )
    verdict = _first_json_object(reply)
    kind = _parse_type(verdict.get("type") if verdict else None)
    if verdict is None or kind is None:
        reason = "no JSON object" if verdict is None else f"invalid type {verdict.get('type')!r}"
        return rules.model_copy(
            update={
                "method": "llm-fallback",
                "evidence": [f"llm answer unusable ({reason}); used the rules", *rules.evidence],
            }
        )
    urgency = _parse_urgency(verdict.get("urgency")) or _urgency(
        kind, rules.signals, rules.sentiment, text
    )
    confidence = verdict.get("confidence")
    why = verdict.get("reason") or verdict.get("evidence")
    evidence = [f"llm: {str(why)[:200]}"] if why else []
    return Moment(
        type=kind,
        urgency=urgency,
        sentiment=rules.sentiment,
        sentiment_label=rules.sentiment_label,
        signals=rules.signals,
        confidence=float(confidence)
        if isinstance(confidence, int | float) and 0 <= confidence <= 1
        else 0.7,
        scores=dict(rules.scores),
        method=f"llm:{model.name}",
        evidence=[*evidence, *rules.evidence[:8]],
    )


def _parse_type(value: object) -> MomentType | None:
    if not isinstance(value, str):
        return None
    key = value.strip().lower().replace("-", "_").replace(" ", "_")
    try:
        return MomentType(key)
    except ValueError:
        return None


def _parse_urgency(value: object) -> Urgency | None:
    if not isinstance(value, str):
        return None
    try:
        return Urgency(value.strip().lower())
    except ValueError:
        return None


__all__ = [
    "CLASSIFIER_VERSION",
    "CUES",
    "MAX_CHARS",
    "classify_post",
    "classify_post_llm",
    "clean_text",
    "is_newcomer",
    "member_sentiment",
    "tenure_days",
]
