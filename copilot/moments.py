"""Which moment of impact a post is, how urgent it is, and how the member feels.

`classify_post(post)` is the default: deterministic, no model, about a millisecond a post. It
adds up weighted cues (phrases typical of introductions, complaints, outages, clashes, shared
work, celebrations, questions) over the post's title and text, then uses the member profile
(newcomer, long-time member, earlier staff interactions) and the thread (hostile replies, many
members reporting the same thing). Every cue that fired is listed in `Moment.evidence`.

`classify_post_llm(post, model)` asks a chat model for a JSON verdict (prompts/classify.*.j2)
and falls back to the rules, saying so in `evidence`, when the answer is unusable.

Member sentiment is VADER's compound score with its known blind spots patched: problem phrases
it reads as neutral ("not working", "won't connect"), politeness that hides a complaint
("thanks but it still fails"), and sarcasm over a problem ("great, another update that ...").
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache
from typing import TYPE_CHECKING, Any, Literal

from copilot.errors import InputError, LLMError
from copilot.types import GenerationOptions, Member, Moment, MomentType, Post, Urgency

if TYPE_CHECKING:
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    from copilot.llm.base import ChatModel

QUESTION_CAP = 2.2  # the most question-ness can add (a rhetorical "?" must not beat a complaint)
SUBORDINATE_AT = 2.0  # from this score on, a crisis or complaint outweighs the asking in it
MAX_CHARS = 20_000  # longer posts are analysed on their first MAX_CHARS characters
CLASSIFIER_VERSION = "rules-1"
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


def _cues(kind: MomentType, weight: float, *patterns: str) -> list[Cue]:
    return [Cue(kind, weight, re.compile(p, re.IGNORECASE), p) for p in patterns]


# The cue lists are written from how such posts are usually phrased, not from any one data set.
CUES: tuple[Cue, ...] = (
    # Introductions and greetings ------------------------------------------------------------
    *_cues(
        T.WELCOME,
        2.5,
        r"\bintroduc(?:e|ing) (?:myself|ourselves)\b|\b(?:quick |short |small )?(?:self[- ]?)?intro"
        r"(?:duction)?\s*[:\-]",
        r"\bmy name(?:'s| is)\b|\bname'?s (?-i:[A-Z])",
        r"(?:^|[.!,\n]\s*)(?:i'?m|i am|this is|we are|we're) (?-i:[A-Z][a-z]{1,15})\b(?! here to)"
        r"(?:,| and| from| here|\s*\(|\s*[.!]| a | an )",
        r"(?:^|[.!\n]\s*)(?!(?:new|anyone|anybody|someone|everyone|nobody|same|help|question|"
        r"stuck|me|it|problem|issue|also|still|over|out|up|in|click|see|from|link|details|"
        r"photos|files|code)\b)(?-i:[A-Z][a-z]{1,15}) here\b",
        r"\b(?:hello|hi|hey|greetings|salut|hola|ol[aá]|ahoj|hallo|ciao)\b[^.!?\n]{0,20}\bfrom "
        r"(?:a |the )?(?-i:[A-Z])",
        r"\blong[- ]?time lurker\b|\blurk(?:ed|ing|er)\b",
        r"\b(?:nice|glad|happy|excited|great|pleased) to (?:be here|meet (?:you|everyone|all)|"
        r"join|be part)",
        r"\b(?:say hi|wave hello|saying hello|just wanted to (?:say|introduce))\b",
        r"\bnice to meet\b",
    ),
    *_cues(
        T.WELCOME,
        1.0,
        r"\b(?:i'?m|i am|we'?re|we are)\s+(?:brand\s+|quite\s+|pretty\s+|very\s+|totally\s+)?new\s+"
        r"(?:here|in|to|member|user)\b",
        r"\b(?:just|recently|finally|today)\s+(?:joined|signed up|registered|made an account)",
        r"\bnew (?:member|here)\b",
        r"\bfirst (?:post|time posting|message)\b|\bfirst[- ]time poster\b",
        r"\b(?:hi|hey|hello|greetings|howdy|bonjour|hallo|hola|ol[aá]),? (?:all|everyone|everybody|"
        r"folks|people|there|zusammen|à tous|a todos)\b",
        r"\blooking forward to (?:learning|being part|getting to know|contributing|joining|the)",
        r"\b(?:based in|greetings from|living in|i live in)\b",
        r"\b(?:retired|student|engineer|developer|designer|teacher|nurse|driver|dad|mum|mom|"
        r"father|mother|family|owner|tinkerer|hobbyist)\b",
    ),
    # Complaints: negative evaluation aimed at the product, the company or its support ----------
    *_cues(
        T.COMPLAINT,
        2.0,
        r"\b(?:very |really |extremely |so |deeply )?(?:disappointed|disappointing|frustrated|"
        r"frustrating|annoyed|annoying|unhappy|not happy|fed up|sick (?:and tired )?of|furious|"
        r"infuriating|livid|angry)\b",
        r"\b(?:unacceptable|ridiculous|outrageous|absurd|pathetic|a joke|a scam|ripoff|rip-off|"
        r"waste of (?:money|time)|garbage|rubbish|useless|worst|terrible|horrible|awful|"
        r"shameful|disgrace)\b",
        r"\b(?:nobody|no one|noone|never) (?:from (?:support|the team|staff) )?(?:has )?"
        r"(?:answered|replied|responded|got back|gets back|bothered)",
        r"\b(?:still|no) (?:no )?(?:answer|response|reply) from (?:support|you|the team|staff)",
        r"\b(?:want|demand|asking for|give me) (?:a |my )?(?:refund|money back|replacement)",
        r"\b(?:refund|money back)\b",
        r"\bregret (?:buying|purchasing|upgrading|ordering)\b",
        r"\b(?:thinking (?:about|of)|going to|will) (?:switch(?:ing)?|return(?:ing)?|leav(?:e|ing))"
        r"\b.*\b(?:to|it|lumen|brand|product|ecosystem)",
        r"\b(?:how (?:is|can) (?:this|that) (?:acceptable|ok|okay|possible))",
        r"\byou (?:guys|people|folks) (?:broke|ruined|keep|never|don'?t|do not|clearly don'?t)\b",
        r"\b(?:your|the) (?:support|customer service|company|team) (?:is|has been)\b",
        r"\bthanks for nothing\b|\b(?:hate|hates|hated|can'?t stand|loathe)\b",
        r"\b(?:paid|pay(?:ing)?) (?:good |real )?money (?:for|and)\b",
        r"\bnot what i paid for\b",
        r"\b(?:isn'?t|is not|wasn'?t|not) (?:the (?:experience|quality|service)|what) i (?:expected|"
        r"was promised|signed up for)\b|\bexpected (?:better|more)\b|\bno way to (?:turn|switch|"
        r"disable|opt)\b",
        r"\b(?:let down|not impressed|not cool|bait and switch|i expect(?:ed)? better|"
        r"(?:copy[- ]paste|canned) (?:answer|reply|response)|wow,? just wow|not acceptable|"
        r"inaceptable|inakzeptabel|inacceptable|decepcionad\w*|entt[äa]uscht|déçu)\b",
        r"\b(?:shouldn'?t have to|should not have to|doesn'?t help|does not help|didn'?t help|"
        r"nothing (?:we|they) can do|treat (?:your |loyal )?customers)\b",
        r"\bwhy (?:did|would|do) you (?:make|change|remove|move|add|put|force|hide|break)",
        r"\b(?:bring|put|give) (?:it |us |them )?back\b|\bplease (?:revert|undo|restore)\b",
        r"\bi (?:paid|pay) (?:for|\d)|\bi paid\b",
        r"\bforced (?:update|upgrade|subscription)\b|\bforc(?:es|ed|ing) (?:me|us|you|users|people) "
        r"to\b|\bdark pattern\b",
        r"\bpaywall|subscription fee|now charg(?:e|ing)\b",
    ),
    *_cues(
        T.COMPLAINT,
        1.0,
        r"\b(?:keeps?|kept) (?:breaking|crashing|disconnecting|dropping|failing)\b",
        r"\b(?:every|each) (?:single )?(?:update|time|release)\b.*\b(?:break|broke|worse|fail)",
        r"\b(?:since|after) (?:the |this |your |last )?(?:latest |last |new )?"
        r"(?:update|upgrade|firmware|release)\b.*\b(?:broke|broken|worse|nothing works|useless|stopped)",
        r"\b(?:still|again)\b.*\b(?:broken|not (?:fixed|working)|doesn'?t work)",
        r"\b(?:downgrade|worse than before|step backwards?|used to work)\b",
        r"\bbrick(?:ed)?\b",
        r"\b(?:great|wonderful|fantastic|love (?:how|that)|thanks a lot),? (?:another|yet another|"
        r"now|so) ",
        r"\bsupport ticket\b|\bticket (?:open|number|#)\b",
        r"\bweeks?\b.*\bwithout (?:a )?(?:fix|answer|reply|response)\b",
    ),
    # Crisis: outages, incidents, security, data loss, many members affected --------------------
    *_cues(
        T.CRISIS,
        2.5,
        r"\b(?:is|are) (?:the )?(?:lumen )?(?:cloud|servers?|app|sync|service|api|login|store|"
        r"remote access)(?: service)? (?:down|offline|out)\b",
        r"\b(?:outage|service disruption|incident|downtime)\b",
        r"\b(?:all|every|both|none of) (?:of )?(?:my|our|the) (?:hubs?|lights?|bulbs?|devices?|"
        r"scenes?)\b.*\b(?:offline|down|unreachable|dead|gone|disappeared|not responding)",
        r"\b(?:data loss|lost (?:all|every|my entire|our)|wiped|deleted all|all (?:my|our) "
        r"(?:scenes|settings|automations|data|config\w*) (?:are |is )?(?:gone|lost|missing|deleted))",
        r"\b(?:security (?:issue|hole|flaw|problem|vulnerability|bug|incident)|vulnerability|"
        r"exploit|cve-\d|breach|hacked|compromised|unauthori[sz]ed access|leak(?:ed|ing)?)\b",
        r"\b(?:someone else'?s|other (?:people'?s|users'?|customers'?)) (?:hub|home|lights|account|"
        r"data|email|scenes|devices)\b",
        r"\b(?:can see|showing|shows) (?:other|someone|a stranger|another)",
        r"\b(?:down for everyone|(?:is it )?just me\b|anyone else (?:having|seeing|getting|"
        r"experiencing|notic)|same (?:here|problem|issue) (?:for|here|since)|me too\b)",
        r"\bstatus page\b",
        r"\b(?:server[- ]side|on (?:your|their|the server) end|backend|back end)\b",
        r"\b(?:hubs?|devices?|lights?|bulbs?|everything|app|remote access|sync|cloud)\b[^.!?\n]{0,50}"
        r"\b(?:offline|down|unreachable|dead|boot ?loop\w*|won'?t boot|not booting|bricking|"
        r"returning errors|timing out)\b",
        r"\b(?:psa|heads[- ]up|warning)\b\s*[:!,-]",
        r"\b(?:charged|billed) (?:me )?(?:twice|two times|three times|\d+ times|double)\b",
        r"\bis (?:the team|lumen|staff|anyone) aware\b|\bnot the only one\b|\bon your end\b",
        r"\b(?:privacy|data protection) (?:issue|problem|breach|leak)\b|\banother user'?s\b",
        r"\bproof[- ]of[- ]concept\b|\bwithout (?:a |any )?(?:password|authenticat\w*)\b",
        r"\bhold off (?:on )?updating\b|\bdon'?t (?:update|install)\b",
        r"\b(?:everyone'?s|everybody'?s|all (?:our|the) (?:users|customers|members)'?s?)\b",
        r"\b(?:overheat\w*|smok(?:e|ing)|burn(?:ing|t|ed)|melt(?:ed|ing)|fire|sparks?|warped|"
        r"scorch\w*|smells? (?:hot|burnt|burning|like (?:plastic|burning))|electric shock)\b",
    ),
    *_cues(
        T.CRISIS,
        1.0,
        r"\b(?:offline|unreachable|not responding|can'?t (?:log ?in|sign in|connect))\b",
        r"\b(?:since|for the (?:last|past)) (?:about |around )?(?:an? |\d+ )(?:hour|minute|hr|min)s?",
        r"\bsince (?:about |around )?\d{1,2}(?:[:.]\d{2})?\s*(?:am|pm|utc|cet|gmt|est|pst)?\b|"
        r"\bsince (?:this morning|last night|the weekend|yesterday)\b",
        r"\b(?:right now|currently|at the moment)\b.*\b(?:down|offline|failing|error)",
        r"\b(?:error|http) ?(?:5\d\d|503|502|500)\b|\btimeout\b|\btimed out\b",
        r"\bany(?:one|body) else'?s\b|\b(?:in|from) (?:another|a different|other) (?:city|town|"
        r"country|region)\b",
        r"\b(?:multiple|several|many|lots of|dozens of|hundreds of) (?:users|people|members|"
        r"customers|reports|households)\b",
        r"\burgent\b|\basap\b|\bemergency\b",
        r"\bpassword\b|\b2fa\b|\bphishing\b|\blogged (?:me )?out\b",
    ),
    # Conflict: members clashing ----------------------------------------------------------------
    *_cues(
        T.CONFLICT,
        2.5,
        r"@\w+,? (?:you(?:'re| are)|your|u r|ur) ",
        r"\byou(?:'re| are) (?:wrong|clueless|an idiot|a troll|just|clearly|obviously|not)\b",
        r"\byou (?:clearly |obviously )?(?:don'?t|do not|didn'?t|did not) (?:know|understand|"
        r"read|get it|have a clue)\b",
        r"\b(?:stop|quit) (?:spreading|posting|trolling|derailing|being|telling|spamming)\b",
        r"\b(?:troll(?:ing)?|idiot|moron|clown|stupid(?! question)|dumb(?! question)|know[- ]it[- ]all|gatekeep\w*|"
        r"condescending|patroni[sz]ing|arrogant|toxic|elitist|fanboy)\b",
        r"\bnobody asked (?:you|for your)\b|\bmind your own\b|\bshut up\b|\bget lost\b",
        r"\b(?:rtfm|read the (?:docs|manual|faq|thread) (?:before|first))\b",
        r"\b(?:personal attack|attacking me|insult(?:ed|ing)?|rude|disrespectful|harass\w*)\b",
        r"\b(?:moderators?|mods?|admins?),? (?:please )?(?:do something|step in|intervene|ban|look|"
        r"lock)",
        r"\b(?:this|that) (?:guy|person|user|member)\b",
        r"\bnot (?:your|ur) (?:place|business|call)\b",
        r"\bwhat(?:'s| is) your problem\b|\bwho (?:do you think|are you to)\b",
        r"\b(?:snark\w*|petty|passive[- ]aggressive|sarcastic replies|downvot\w*|stalk\w*|"
        r"following me around|going around)\b",
        r"\byou (?:copied|stole|twist\w*|attack\w*|mock\w*|lectur\w*|insult\w*|accus\w*|call(?:ed)? "
        r"me|ignored? my|keep (?:arguing|twisting|attacking|derailing))\b",
        r"\b(?:keep arguing|twists? (?:every|my) words?|(?:call|calling|called) (?:me|someone|people) "
        r"(?:a |an )?(?:liar|idiot|troll|names))\b",
        r"\b(?:don'?t|do not|stop) (?:tell(?:ing)?|lectur\w*|attack\w*) (?:newcomers|people|others|me|"
        r"him|her|them)\b|\bnot how we do things\b|\b(?:you'?re|you are) missing the point\b",
    ),
    *_cues(
        T.CONFLICT,
        1.0,
        r"\b(?:with all due respect|no offen[cs]e,? but|sorry,? but you)\b",
        r"\b(?:misinformation|wrong information|bad advice|spreading)\b",
        r"\b(?:you|u) (?:always|never|keep)\b",
        r"\b(?:blocked|ignore list|reported (?:you|your|this post|him|her))\b",
        r"\b(?:derail\w*|off[- ]topic|hijack\w*)\b",
        r"\b(?:your (?:tone|attitude|comment|reply|post)|the tone)\b",
    ),
    # Contribution: something made and shared ----------------------------------------------------
    *_cues(
        T.CONTRIBUTION,
        2.5,
        r"\b(?:i|we)(?:'ve| have)? (?:just |finally )?(?:made|built|wrote|written|created|developed|"
        r"published|released|put together|hacked together|whipped up|open[- ]sourced|coded|designed|"
        r"translated|ported|packaged|recorded|measured|documented|updated the (?:wiki|docs|guide))\b"
        r"(?! (?:to|back|an? (?:email|ticket|message|mail|complaint)))",
        r"(?:^|[.!\n]\s*)(?:made|wrote|built|created|designed|put together|packaged|recorded|"
        r"translated|updated|bisected|measured|finished (?:translating|writing|building))\b"
        r"(?! (?:to|back|an? (?:email|ticket|complaint)))",
        r"\b(?:translation|port|guide|plugin|integration|binding|version \d[\d.]*)\b[^.!?\n]{0,40}"
        r"\b(?:is (?:done|out|ready|finished|live)|now available)\b",
        r"\b(?:pull request|merge request|\bpr\b|patch)\b(?! (?:number|#))",
        r"github\.com/[\w.-]+/[\w.-]+(?:/pull/\d+)?|gitlab\.com/|codeberg\.org/",
        r"\b(?:sharing|share|here'?s|here is) (?:my|a|the|our) (?:\w+ )?(?:plugin|integration|"
        r"script|tutorial|guide|blueprint|template|dashboard|theme|config|tool|library|card|"
        r"automation|walkthrough|write-?up|fix|workaround|translation|case|mount|stl)\b",
        r"\b(?:translat(?:ed|ion|ing))\b.*\b(?:into|to|in) (?:\w+ )?(?:german|french|spanish|"
        r"italian|portuguese|dutch|polish|japanese|chinese|korean|turkish|swedish|czech|ukrainian|"
        r"russian|hindi)\b",
        r"\b(?:steps to reproduce|minimal repro\w*|reproduc(?:ed|ible|tion)|bisect\w*|root cause)\b",
        r"\b(?:found|figured out|tracked down) (?:the|a|what) (?:cause|culprit|reason|bug|problem|"
        r"fix)\b|\b(?:cleaned up|tidied up|proposed fix|fix proposal|one-line fix|proposal)\b",
        r"\b(?:feel free to|free to) (?:use|fork|try|improve|contribute)\b",
        r"\b(?:open[- ]source|mit licen[cs]e|apache licen[cs]e|gpl)\b",
    ),
    *_cues(
        T.CONTRIBUTION,
        1.0,
        r"\b(?:plugin|integration|custom component|add-?on|library|sdk|wrapper|docker image|"
        r"node-red flow|addon|firmware mod)\b",
        r"\b(?:tutorial|how-?to guide|step[- ]by[- ]step|walkthrough|write-?up|documentation|docs "
        r"(?:fix|update|page))\b",
        r"\b(?:feedback|suggestions|testers|beta testers) (?:welcome|appreciated|wanted)\b",
        r"\b(?:hope (?:this|it) helps|might (?:be useful|help)|useful for (?:someone|others))\b",
        r"\b(?:repo|repository|source code|changelog|readme)\b",
        r"\b(?:log(?:s)?|trace|stack ?trace|packet capture|wireshark)\b.*\b(?:attached|below)\b",
        r"\b(?:attached|in the gist|import link|download|link below|releases page|stl|json "
        r"attached|pdf|spreadsheet|measurements|findings|workaround)\b",
    ),
    # Milestones: anniversaries, counts, launches ---------------------------------------------
    *_cues(
        T.MILESTONE,
        2.5,
        r"\b(?:\d+|one|two|three|four|five|six|seven|eight|nine|ten)(?:st|nd|rd|th)? "
        r"(?:year|month)s? (?:ago today|since i (?:joined|started|bought|installed)|anniversary|"
        r"with (?:lumen|the community|this community|you))",
        r"\banniversary\b|\bbirthday\b|\bcake day\b",
        r"\bmy (?:\d[\d,.]*|hundredth|thousandth)(?:st|nd|rd|th)? (?:post|reply|answer|solution|"
        r"contribution|day)\b",
        r"\b(?:reached|hit|passed|crossed|surpassed|celebrat\w*) (?:\d[\d,.]*k?|a|the|one|"
        r"our|my)\b.*\b(?:members|users|stars|downloads|installs|posts|devices|bulbs|lights|"
        r"milestone|mark|followers|solutions)\b",
        r"\bmilestone\b",
        r"\b(?:we|it|finally|officially) (?:shipped|launched|went live|is live|are live|"
        r"hit (?:1\.0|v1|general availability))\b",
        r"\b(?:just |finally )?(?:graduated|got promoted|became (?:a )?(?:moderator|regular|leader))",
        r"\b(?:finished|completed) (?:my|our|the) (?:whole|entire|full)\b",
        r"\b(?:celebrat(?:e|ing|ion)|cheers to|here'?s to)\b",
        r"\b(?:first|one|two|three|five|ten|\d+) (?:year|years) (?:of|with|in|on)\b",
        r"\b\d[\d,.]*k? (?:members|downloads|stars|installs|attendees|active installs)\b",
        r"\b\d+(?:st|nd|rd|th) (?:\w+ )?(?:workshop|meetup|post|answer|birthday|anniversary|release|event|"
        r"question|solution|pr|contribution|day|year)\b",
        r"\b(?:\d+|one|two|three|five|ten) (?:years?|months?|days?) (?:ago today|of uptime|today|"
        r"without (?:a )?(?:reboot|crash|problem))\b",
        r"\bit'?s official\b|\b(?:is|are) (?:finally )?out!|\bbiggest ever\b|\bfull circle\b",
        r"\b(?:got|earned|received) (?:the |a |my )?['\"]?[\w ]{0,25}['\"]? badge\b",
    ),
    *_cues(
        T.MILESTONE,
        1.0,
        r"\b(?:proud|thrilled|excited|happy) to (?:announce|share|say|report)\b",
        r"\b(?:thank you all|thanks everyone|thanks to (?:all|everyone|this community)|couldn'?t "
        r"have done it without)\b",
        r"[🎉🥳🎂🎊🍾]",
        r"\b(?:woo+ho+|yay+|hooray|huzzah)\b",
        r"\b(?:today|this week|this month|this year) (?:marks|is|was)\b",
        r"\b(?:passed|earned|won|achieved|(?:was|were|got) (?:selected|chosen|accepted|certified)|"
        r"became|(?:i'?m|i am|we'?re|we are) now (?:an? )?(?:official|certified))\b",
        r"\b(?:big day|proud (?:moment|tonight|today)|feeling proud|made my (?:day|week)|new (?:house|"
        r"home|chapter))\b",
        r"\bfull(?:y)? (?:automated|converted|migrated) (?:my|our|the) (?:house|home|flat|"
        r"apartment)\b",
    ),
)

# Question-ness (feeds both `question` and `first_question`).
_QUESTION_CUES: tuple[tuple[float, re.Pattern[str], str], ...] = tuple(
    (w, re.compile(p, re.IGNORECASE), p)
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
    )
)

_NEWCOMER_TEXT = re.compile(
    r"\b(?:i'?m|i am) (?:brand |very |totally |quite )?new\b|\bjust (?:joined|got|bought|"
    r"started|set up|unboxed|received)\b|\bnewbie\b|\bnoob\b|\bbeginner\b|\bfirst (?:post|time|"
    r"question|lumen|hub)\b|\bnew (?:here|to|member|user|owner)\b",
    re.IGNORECASE,
)

# Signals --------------------------------------------------------------------------------------
_REPEATED = re.compile(
    r"\b(?:again|still|yet again|once more|third time|second time|fourth time|(?:\d+|two|three|"
    r"four|five)(?:rd|th|nd)? time|keeps? (?:happening|coming back)|every (?:single )?time|"
    r"for (?:weeks|months|days)|repeatedly|over and over|no fix yet|recurring|in a row|"
    r"back to back|like last time|as (?:before|last time))\b",
    re.IGNORECASE,
)
_SECURITY = re.compile(
    r"\b(?:security|vulnerab\w*|exploit\w*|cve-\d+|breach\w*|hack(?:ed|er|ers)|compromised|"
    r"unauthori[sz]ed|leak(?:ed|ing|s)?|exposed|phishing|malware|someone else'?s (?:hub|home|"
    r"account|lights|data)|strangers?'?s? (?:hub|home|account|lights)|other (?:people'?s|users'?) "
    r"(?:hubs?|homes?|accounts?|data|lights|scenes))\b",
    re.IGNORECASE,
)
_DATA_LOSS = re.compile(
    r"\b(?:data loss|(?:shows?|showing|says|lists?) (?:0|no|zero) (?:backups|scenes|devices|"
    r"automations|homes)|lost (?:all|every|my|our)\b[^.]{0,40}(?:scenes|settings|automations|data|"
    r"config\w*|backups?|history|schedules)|wiped|erased|deleted (?:all|every|my)|(?:scenes|"
    r"settings|automations|backups?|data|schedules|history) (?:are |is |got |were )?(?:gone|"
    r"lost|missing|deleted|disappeared|vanished|wiped))",
    re.IGNORECASE,
)
_MANY = re.compile(
    r"\b(?:everyone|everybody|all of us|same here|me too|also (?:seeing|having|getting|"
    r"affected)|not (?:just|only) me|(?:multiple|several|many|lots of|dozens of|hundreds of|"
    r"other) (?:users|people|members|customers|households|reports)|whole (?:house|community|"
    r"neighbou?rhood|office|building)|widespread|outage|all (?:my|our) (?:hubs|devices|lights|"
    r"bulbs|homes|sites|customers|installations)|down for (?:everyone|all)|worldwide|every region|"
    r"status page)\b",
    re.IGNORECASE,
)
_SAME_HERE = re.compile(
    r"\b(?:same here|me too|same (?:problem|issue)|also (?:down|offline|seeing|having|affected)|"
    r"\+1|mine too|here too|ditto|confirm(?:ed)?)\b",
    re.IGNORECASE,
)
_STAFF_WORDS = re.compile(
    r"\b(?:staff|support(?: team)?|admins?|moderators?|mods|devs|developers|the team|lumen team|"
    r"community team|customer service)\b",
    re.IGNORECASE,
)
_HOSTILE = re.compile(
    r"\b(?:idiot|moron|stupid|dumb|clueless|troll\w*|shut up|get lost|nobody asked|rtfm|"
    r"clown|pathetic|ridiculous|you'?re wrong|you are wrong|don'?t know what you'?re talking|"
    r"know[- ]it[- ]all|condescending|arrogant|toxic|fanboy|grow up|get a clue|go away)\b",
    re.IGNORECASE,
)
_ANGER = re.compile(
    r"\b(?:furious|livid|unacceptable|ridiculous|outrageous|disgrace\w*|pathetic|worst|"
    r"scam|ripoff|rip-off|garbage|rubbish|waste of money|never again|fed up|sick (?:and tired )?"
    r"of|!!+)|[A-Z]{4,}(?:\s+[A-Z]{2,}){1,}",
)

# Sentiment fixes for VADER's blind spots.
_PROBLEM_PHRASES = re.compile(
    r"\b(?:not|isn'?t|aren'?t|wasn'?t|doesn'?t|don'?t|didn'?t|won'?t|can'?t|cannot|never|no "
    r"longer|stopped|still not|fails? to|unable to)\b\s+(?:\w+\s+){0,2}?(?:work\w*|connect\w*|"
    r"respond\w*|load\w*|sync\w*|pair\w*|turn\w* on|start\w*|fix\w*|help\w*|answer\w*|update\w*|"
    r"show\w*|save\w*|boot\w*|reply|replied|function\w*)\b"
    r"|\b(?:still|again|keeps?)\s+(?:\w+\s+)?(?:broken|failing|crashing|dropping|disconnect\w*|"
    r"offline|dead|buggy|down)\b"
    r"|\b(?:broken|bricked|dead|offline|unreachable|crash\w*|buggy|laggy|unusable|unstable)\b",
    re.IGNORECASE,
)
_BITTER = re.compile(
    r"\b(?:thanks for nothing|thanks a lot,? (?:not|now)|no thanks to|great job breaking|"
    r"well done,? (?:lumen|guys|team)|good job,? (?:lumen|guys|team)|what a joke)\b",
    re.IGNORECASE,
)
_BREAKAGE = re.compile(
    r"\b(?:won'?t (?:load|open|start|boot|respond|connect)|error|errors|fail(?:s|ed|ing)?|"
    r"slow|broken|missing|gone|disappeared|stuck|frozen|crash\w*|random(?:ly)?|on (?:their|its) "
    r"own|0 (?:backups|devices|scenes)|no longer)\b",
    re.IGNORECASE,
)
_IMMEDIATE = re.compile(
    r"\b(?:right now|just now|at the moment|currently|since (?:this morning|last night|tonight|"
    r"today|yesterday|\d{1,2}(?::\d{2})?\s*(?:am|pm|utc|cet|gmt)?|about|an? (?:hour|few))|"
    r"(?:an?|\d+|few) (?:hours?|minutes?|mins?) ago|this morning|tonight|last night|suddenly|"
    r"all of a sudden|started (?:\w+ing|to)|as of (?:now|today))\b",
    re.IGNORECASE,
)
_SCOPE = re.compile(
    r"\b(?:all|every|none of|nothing|everything|whole|entire|my account|our (?:school|office|"
    r"building|company|customers)|other (?:city|cities|people|users))\b",
    re.IGNORECASE,
)
_SECOND_PERSON_BLAME = re.compile(
    r"\b(?:you|your|you'?re|you'?ve)\b[^.!?\n]{0,60}\b(?:wrong|false|lie|lying|rude|claim|"
    r"keep|always|never|think|prove|delete|belong|stop|twist|been \w+ing)\w*",
    re.IGNORECASE,
)
_DIRECTIVE = re.compile(
    r"\b(?:i'?ve|i have) (?:already )?(?:asked|told) you\b|\bkeep (?:your|it|this|that|the) [\w ]{0,20}"
    r"\bout of\b|\b(?:please|just) (?:stop|don'?t|leave)\b|\b(?:stop|quit) \w+ing\b",
    re.IGNORECASE,
)
_CELEBRATION_SHAPE = re.compile(
    r"\b(?:today|finally|turned \d+|turns \d+|years?|months?|\d[\d,.]*(?:st|nd|rd|th)?|"
    r"first|last day|proud|thank(?:s| you)|grateful)\b",
    re.IGNORECASE,
)
_MAKER_SHAPE = re.compile(
    r"\b(?:i|we)(?:'ve| have)? (?:\w+ ){0,2}(?:\w+ed|made|built|wrote|found)\b|"
    r"\b(?:attached|below|link|inside|feel free)\b",
    re.IGNORECASE,
)
_CONTRAST = re.compile(r"\b(?:but|however|though|although|yet|except)\b", re.IGNORECASE)
_POLITE_FILLER = re.compile(
    r"\b(?:thanks?(?: you)?(?: so much| a lot)? (?:in advance|for (?:any|your) help|for reading)|"
    r"any help (?:is |would be )?(?:appreciated|welcome)|tia|cheers|kind regards|best regards|"
    r"regards|please help)\b",
    re.IGNORECASE,
)
_SARCASM = re.compile(
    r"\b(?:great|wonderful|fantastic|awesome|brilliant|lovely|perfect|nice|love (?:how|that|it "
    r"when)|thanks a lot|thank you so much|just what i needed|real(?:ly)? helpful),?\s+"
    r"(?:another|yet another|now|so now|just|thanks for|\.\.\.)",
    re.IGNORECASE,
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
    scores: dict[MomentType, float] = field(default_factory=lambda: dict.fromkeys(T, 0.0))
    evidence: list[str] = field(default_factory=list)
    signals: list[str] = field(default_factory=list)
    addresses_member: bool = False  # the post answers or names another (non-staff) member
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
    return member.post_count is None and days is None and bool(_NEWCOMER_TEXT.search(text))


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
        "hub", "lumen", "any", "can", "does", "did", "about", "there", "been", "will", "would",
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


def _thread_signals(post: Post, feats: _Features) -> None:
    """Hostility and 'same here' in the thread; who the member is answering."""
    others = [m for m in post.thread if m.author != post.member.handle or m.author is None]
    hostile = [m for m in post.thread if not m.is_staff and _HOSTILE.search(m.text)]
    if hostile:
        feats.signals.append("heated_thread")
        feats.scores[T.CONFLICT] += 1.0 + 0.5 * min(len(hostile), 3)
        feats.evidence.append(f"thread: {len(hostile)} hostile message(s)")
    same = [m for m in post.thread if _SAME_HERE.search(m.text) or _MANY.search(m.text)]
    if len(same) >= 2:
        feats.signals.append("many_affected")
        feats.scores[T.CRISIS] += 1.0 + 0.5 * min(len(same), 4)
        feats.evidence.append(f"thread: {len(same)} members report the same")
    member_authors = {m.author.lower() for m in others if m.author and not m.is_staff}
    staff_authors = {m.author.lower() for m in post.thread if m.author and m.is_staff}
    mentioned = {h.lower() for h in re.findall(r"@([\w.-]+)", feats.text)}
    if mentioned & member_authors and _HOSTILE.search(feats.text):
        feats.scores[T.CONFLICT] += 2.0
        feats.evidence.append("conflict: hostile reply to another member")
    elif mentioned & member_authors and feats.scores[T.CONFLICT] > 0:
        feats.scores[T.CONFLICT] += 1.5
        feats.evidence.append("conflict: addresses another member by @handle")
    if mentioned & staff_authors or _STAFF_WORDS.search(feats.text):
        feats.signals.append("mentions_staff")
    name_parts = {
        part
        for author in member_authors
        for part in re.split(r"[_.\-\d]+", author)
        if len(part) >= 3
    }
    words = set(re.findall(r"[a-z]+", feats.text.lower()))
    last = others[-1] if others else None
    second_person = re.search(r"\byou(?:'re|r|'ve)?\b", feats.text, re.IGNORECASE) is not None
    answering = last is not None and not last.is_staff and second_person
    if (mentioned & member_authors) or (name_parts & words) or answering:
        feats.addresses_member = True
    if answering:
        # Answering another member in the second person: complaint cues are probably aimed at them.
        if feats.scores[T.CONFLICT] > 0:
            feats.scores[T.CONFLICT] += 1.0
            feats.evidence.append("conflict: second-person reply to a member")


def _score_cues(feats: _Features) -> None:
    counted: dict[MomentType, int] = dict.fromkeys(T, 0)
    for cue in CUES:
        match = cue.pattern.search(feats.text)
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
        match = pattern.search(feats.text)
        if match:
            total += weight
            feats.evidence.append(f"question: '{match.group(0).strip()[:40]}'")
    return min(total, QUESTION_CAP)


def _score(post: Post) -> _Features:
    raw = "\n".join(part for part in (post.title, post.text) if part)
    text = clean_text(raw)
    feats = _Features(text=text)
    feats.signals.extend(_member_signals(post, text))
    _score_cues(feats)
    _thread_signals(post, feats)

    if _SECURITY.search(text):
        feats.signals.append("security")
        feats.scores[T.CRISIS] += 1.0
    if _DATA_LOSS.search(text):
        feats.signals.append("data_loss")
        feats.scores[T.CRISIS] += 1.0
    many = _MANY.search(text)
    problem = feats.scores[T.CRISIS] > 0 or _PROBLEM_PHRASES.search(text) is not None
    if many and problem and "many_affected" not in feats.signals:
        feats.signals.append("many_affected")
        feats.scores[T.CRISIS] += 1.0
        feats.evidence.append(f"crisis: many affected '{many.group(0)}'")
    repeated = _repeated_problem(post, text)
    if repeated:
        feats.signals.append("repeated_problem")
        feats.evidence.append(repeated)
        if feats.scores[T.COMPLAINT] > 0:
            feats.scores[T.COMPLAINT] += 0.8

    asked = _question_score(feats)
    question = (0.5 if asked > 0 else 0.25) + asked  # `question` is also the fallback
    _structural(feats, raw, asked)
    # "Is the cloud down?", "How is this acceptable?": the asking serves another moment.
    # A newcomer's first question stays the moment: onboarding matters most.
    newcomer = "newcomer" in feats.signals
    if not newcomer and max(feats.scores[T.CRISIS], feats.scores[T.COMPLAINT]) >= SUBORDINATE_AT:
        question *= 0.7
    if newcomer:
        feats.scores[T.FIRST_QUESTION] = question + (0.6 if asked > 0 else 0.0)
        feats.scores[T.QUESTION] = question * 0.4
        # A newcomer's greeting is a welcome moment unless a real question dominates;
        # a newcomer who asks nothing is usually saying hello.
        if feats.scores[T.WELCOME] > 0:
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
    """Votes from the shape of the post rather than its phrases: how the member feels, whether
    the trouble is happening now and to whom, whether another member is being answered."""
    sentiment, feats.sentiment_label = member_sentiment(raw)
    feats.sentiment = sentiment
    text = feats.text
    negative = max(0.0, -sentiment - 0.15)
    problem = _PROBLEM_PHRASES.search(text) is not None or _BREAKAGE.search(text) is not None
    now = _IMMEDIATE.search(text)
    if problem and now:
        feats.scores[T.CRISIS] += 1.2
        feats.evidence.append(f"crisis: a problem happening now '{now.group(0)}'")
        if _SCOPE.search(text):
            feats.scores[T.CRISIS] += 0.6
    blame = _SECOND_PERSON_BLAME.search(text) is not None
    if feats.addresses_member and (blame or _DIRECTIVE.search(text)):
        feats.scores[T.CONFLICT] += 1.5
        feats.evidence.append("conflict: tells another member off")
    if feats.scores[T.CONTRIBUTION] >= 2.0:
        negative *= 0.4  # a fix or a repro talks about problems without being upset
    if "repeated_problem" in feats.signals and (problem or "mentions_staff" in feats.signals):
        feats.scores[T.COMPLAINT] += 1.0
    if negative > 0:
        at_member = feats.addresses_member and (feats.scores[T.CONFLICT] > 0 or blame)
        target = T.CONFLICT if at_member else T.COMPLAINT
        weight = 2.2 * negative * (0.5 if asked >= 1.5 else 1.0)
        feats.scores[target] += weight
        feats.evidence.append(f"{target.value}: negative sentiment {sentiment:+.2f}")
    intensity = text.count("!") + len(re.findall(r"\b[A-Z]{4,}\b", raw))
    if negative > 0 and intensity >= 2:
        feats.scores[T.COMPLAINT] += 0.5
    newcomer = "newcomer" in feats.signals
    if sentiment >= 0.0 and asked == 0 and not problem and not newcomer:
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
    score = _compound(text)
    # "thanks, but ..." and "great update, however ...": the part after the contrast counts most.
    contrasts = list(_CONTRAST.finditer(text))
    if contrasts:
        contrast = contrasts[-1]
        after = text[contrast.end() :].strip()
        if len(after) > 8:
            score = 0.3 * score + 0.7 * _compound(after)
    problems = len(_PROBLEM_PHRASES.findall(text))
    if problems:
        score = min(score, 0.0) - 0.25 * min(problems, 3)
    if _SARCASM.search(text) and problems:
        score = min(score, -0.4)
    if _HOSTILE.search(text) or _BITTER.search(text):
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
        if {"security", "data_loss", "many_affected"} & set(signals):
            return Urgency.CRITICAL
        return Urgency.HIGH
    if kind is T.COMPLAINT:
        if "repeated_problem" in signals or sentiment <= -0.6 or _ANGER.search(text):
            return Urgency.HIGH
        return Urgency.NORMAL
    if kind is T.CONFLICT:
        return (
            Urgency.HIGH if "heated_thread" in signals or _HOSTILE.search(text) else Urgency.NORMAL
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


def classify_post(post: Post) -> Moment:
    """The moment of impact of `post`, by weighted cues (no model). Raises InputError if empty."""
    _require_text(post)
    feats = _score(post)
    best = max(feats.scores, key=lambda kind: (feats.scores[kind], -list(T).index(kind)))
    # Crisis beats complaint when both fire and signals say it is broad or dangerous.
    if (
        best is T.COMPLAINT
        and feats.scores[T.CRISIS] >= feats.scores[T.COMPLAINT] - 0.5
        and ({"security", "data_loss", "many_affected"} & set(feats.signals))
    ):
        best = T.CRISIS
    sentiment, label = feats.sentiment, feats.sentiment_label
    signals = list(dict.fromkeys(feats.signals))
    return Moment(
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
