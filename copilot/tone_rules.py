"""Phrase patterns for the tone scorers, compiled once at import.

Each table is a list of (compiled pattern, label). Patterns run on the lower-cased reply with
curly apostrophes normalised. Keep them about constructs (apologising, reflecting a feeling,
blaming the reader), not about the Lumen product, so they transfer to other communities.
"""

from __future__ import annotations

from copilot.tone_text import Rule

Pattern = Rule


def rx(source: str) -> Rule:
    return Rule(source)


def table(*pairs: tuple[str, str]) -> list[tuple[Rule, str]]:
    return [(rx(src), label) for src, label in pairs]


_INT = r"(?:so|really|truly|very|terribly|deeply|genuinely|incredibly|awfully|extremely|super)"
_NEG_FEEL = (
    r"(?:frustrat\w*|hard|awful|stressful|painful|scary|exhausting|upsetting|difficult|rough|"
    r"annoying|alarming|hurtful|tough|worrying|maddening|infuriating|disappointing|"
    r"heartbreaking|overwhelming|horrible|terrible|rotten|confusing|unsettling|draining|"
    r"lonely|discouraging|a lot to deal with|no fun|a pain|miserable|nerve-wracking)"
)
_POS_FEEL = (
    r"(?:wonderful|lovely|brilliant|fantastic|amazing|awesome|incredible|huge|great news|"
    r"exciting|inspiring|heartwarming|beautiful|impressive|delightful|superb|remarkable)"
)

# EPITOME emotional reactions ----------------------------------------------------------------
EMOTION_STRONG = table(
    (rf"(?:i'm|i am|we're|we are|i feel|i'm just) {_INT} sorry", "intensified apology"),
    (
        r"sorry (?:that )?you(?:'ve| have|'re| are| were| had| went| lost| spent| felt| feel|"
        r" got| ended up| had to| dealt| experienced)",
        "sorry for what happened to you",
    ),
    (
        rf"(?:that|this|it) (?:sounds|must be|must have been|must feel|seems|feels|is|was) "
        rf"(?:{_INT} )?(?:so )?{_NEG_FEEL}",
        "names how hard it is",
    ),
    (rf"(?:what a|such a) (?:{_INT} )?{_NEG_FEEL}", "names how hard it is"),
    (r"i can only imagine|my heart goes out|i feel for you|that breaks my heart", "compassion"),
    (
        rf"(?:is|was|feels|felt|sounds|must feel) (?:a |an )?(?:{_INT} )?{_NEG_FEEL}",
        "names how hard it is",
    ),
    (
        r"(?:i'm|i am|we're|we are) (?:so |really |truly )?(?:worried|concerned) (?:about|for) you",
        "concern",
    ),
    (
        rf"(?:i'm|i am|we're|we are) {_INT}? ?(?:happy|glad|proud|thrilled|delighted|excited) "
        rf"(?:for you|to (?:see|hear|have you)|you)",
        "shares their joy",
    ),
    (rf"(?:this|that|it|what) (?:is|was|'s)? ?(?:{_INT} )?(?:a )?{_POS_FEEL}", "shares their joy"),
    (rf"(?:that's|it's|this is|how) (?:{_INT} )?{_POS_FEEL}", "shares their joy"),
    (r"(?:^|\W)(?:wow|yay|woohoo|hooray)(?:\W|$)", "shares their joy"),
    (r"love (?:that|this|it|seeing|how)", "shares their joy"),
    (r"(?:so|really|very) (?:happy|glad|excited|lovely) (?:to|you|that)", "warm welcome"),
)
EMOTION_WEAK = table(
    (r"sorry (?:to hear|for the|about (?:that|this|the)|for any)", "generic apology"),
    (r"(?:^|\W)sorry(?:\W|$)", "apology"),
    (r"apolog(?:y|ies|ise|ize)", "apology"),
    (r"unfortunate|that's a shame|what a shame|oh no", "generic concern"),
    (r"congrat\w*|well done|happy anniversary|nice work|great work|great job", "congratulations"),
    (
        r"glad (?:you|to)|happy to have|great to (?:see|have|meet)|nice to (?:see|meet|have)",
        "gladness",
    ),
    (r"lovely|wonderful|brilliant|amazing|fantastic|awesome|legend", "positive feeling"),
    (r"(?:^|\W)welcome(?:\W|$)", "welcome"),
    (r"thank(?:s| you)|appreciated|grateful", "thanks"),
)

# EPITOME interpretations --------------------------------------------------------------------
INTERPRET_STRONG = table(
    (
        r"(?:it )?sounds like (?:you|it's been|it has been|this has been|that's been)",
        "sounds like you",
    ),
    (r"i can (?:see|understand|imagine|tell) (?:why|how|that)", "I can see why"),
    (r"i (?:understand|get|see) why", "I understand why"),
    (
        r"(?:it )?makes (?:complete |total |a lot of |perfect )?sense (?:that|to|you|why)",
        "makes sense",
    ),
    (r"no wonder (?:you|it)", "no wonder"),
    (r"(?:it's|it is) (?:completely |totally |entirely )?understandable", "understandable"),
    (r"you must (?:be|feel|have)", "you must feel"),
    (r"i know how (?:much|hard|frustrating|annoying|good|scary|it feels)", "I know how"),
    (
        r"you(?:'re| are| were| feel| felt|'ve felt| must be| might be)(?: \w+)? "
        r"(?:furious|frustrated|worried|upset|angry|scared|excited|nervous|done|hurt|accused|"
        r"anxious|overwhelmed|disappointed|let down|ignored|stuck|proud|confused|annoyed|"
        r"afraid|unheard|fed up)(?![a-z])",
        "names their feeling",
    ),
    (r"wanting to \w+ .{0,40}makes (?:complete |total )?sense", "makes sense"),
    (
        rf"(?:being|having|losing|getting|waiting|seeing|finding|dealing)\s[^.!?]{{0,60}}"
        rf"(?:is|was|must be|would be|sounds|feels|can be)\s(?:\w+ )?{_NEG_FEEL}",
        "describes their experience as hard",
    ),
    (
        r"(?:sensible|good thinking|smart|wise|natural|normal) to (?:ask|check|worry|wonder|want)",
        "validates the concern",
    ),
)
INTERPRET_WEAK = table(
    (
        r"(?:i|we) (?:totally |completely |fully )?(?:understand|get it|hear you|hear that)",
        "I understand",
    ),
    (r"i know how you feel|i totally get|totally get|i get how|i get that", "I get it"),
    (
        r"(?:we|i) (?:understand|appreciate) (?:your|the|how) (?:frustration|concern|feelings)",
        "generic understanding",
    ),
    (r"fair enough|(?:that's|that is|totally|completely) fair|makes sense", "validation"),
    (r"not a (?:dumb|stupid|silly) question", "validates the question"),
    (
        rf"(?:that|it|this) sounds (?:\w+ )?{_NEG_FEEL}|that's (?:so |really )?{_NEG_FEEL}",
        "names how it feels",
    ),
)

# EPITOME explorations ------------------------------------------------------------------------
EXPLORE_STRONG = table(
    (r"how are (?:you|things) (?:feeling|holding up|doing|going|coping)", "asks how they are"),
    (r"how (?:do|did|does) (?:you|that|it) (?:feel|make you feel)", "asks how they feel"),
    (r"how are things", "asks how they are"),
    (
        r"what happened when|what happens when|what did you see|what do you see",
        "asks what happened",
    ),
    (r"tell (?:me|us) (?:more|what happens|how it goes|what you see)", "asks to hear more"),
    (r"(?:i'd|we'd|i would|we would) love to (?:hear|know)", "asks to hear more"),
    (r"(?:could|can|would) you (?:tell|share|describe|walk)", "asks to hear more"),
)
EXPLORE_GENERIC = rx(
    r"any (?:other |more |further )?questions|does (?:that|this) help|make sense\?|"
    r"anything else|need anything|let (?:me|us) know|just shout|reach out|"
    r"if you (?:have|need) (?:any|anything)|how it goes|hope (?:this|that) helps|what's next\?"
)
SECOND_PERSON = rx(r"(?<![a-z'])(?:you|your|yours|you're|you've|you'd)(?![a-z])")
FEELING_WORDS = rx(
    r"(?<![a-z])(?:feel\w*|worr\w*|upset|frustrat\w*|proud|excit\w*|hard|stress\w*|scar\w*|"
    r"happen\w*|experience\w*|holding up|going|trickiest|hardest|favourite|favorite|fun|miss)(?![a-z])"
)

# Warmth --------------------------------------------------------------------------------------
WARM = table(
    (
        r"(?:^|\W)(?:welcome|glad|happy|lovely|wonderful|love|delighted|thrilled|great to|so good)(?:\W|$)",
        "warm word",
    ),
    (r"thank(?:s| you)(?: so much| for)", "thanks"),
    (
        r"(?:from all of us|together|you're not alone|we're here|here for you|with you)",
        "togetherness",
    ),
    (r"(?:take care|hang in there|fingers crossed|all the best|have fun)", "kind wish"),
    (r"(?:great|nice|good) to (?:have|see|meet) you|so happy you", "welcoming"),
)
COLD = table(
    (r"be advised|as per|in accordance with|pursuant", "bureaucratic"),
    (r"(?:^|\W)(?:kind |best )?regards(?:\W|$)|sincerely", "formal sign-off"),
    (
        r"thank you for (?:your (?:message|feedback|patience|report|post|question|contribution)|reaching out)",
        "template thanks",
    ),
    (r"is required|are required", "rule-speak"),
    (r"will be reviewed|we are aware of", "impersonal"),
)

# Personalisation boilerplate -----------------------------------------------------------------
BOILERPLATE = table(
    (
        r"thank you for (?:your (?:message|feedback|question|report|post|contribution|patience)|reaching out)",
        "template thanks",
    ),
    (
        r"we (?:appreciate|value) (?:your|all) (?:feedback|community contributions|input)",
        "template appreciation",
    ),
    (r"sorry (?:for|about) (?:any|the) inconvenience", "template apology"),
    (r"we are aware of (?:some|the|an?) (?:issues?|problems?)", "template status"),
    (r"let us know if the (?:problem|issue) persists", "template close"),
    (
        r"please (?:refer to|see|read|check out) (?:the|our) (?:faq|documentation|docs|user manual|community guidelines|guidelines)",
        "template pointer",
    ),
    (r"congrats on your milestone|thank you for being part of", "template phrase"),
    (r"welcome to the community!?\s|welcome aboard\.", "template welcome"),
)

# Hostility -----------------------------------------------------------------------------------
HOSTILE_OVERT = table(
    (
        # not negated ("not a dumb question") and not name-calling reported by a moderator
        # ("calling each other idiots isn't how we talk here")
        r"(?<!not a )(?<!not )(?<!each other )(?<!calling )(?<![a-z])(?:stupid|idiot\w*|dumb|"
        r"moron\w*|pathetic|clueless|ignorant|lazy|incompetent)(?![a-z])",
        "insult",
    ),
    # "genius" is an insult only as a mock address ("thanks, genius"); "your script is genius"
    # is praise.
    (r",\s*genius(?![a-z])|real genius|(?:^|\W)genius[.!?]*$", "insult"),
    (
        r"(?<![a-z])(?:shit\w*|fuck\w*|wtf|crap\w*|damn\w*|bullshit|hell|bloody|piss\w*|ass|asshole|bastard)(?![a-z])",
        "profanity",
    ),
    (
        r"calm down|relax[,.!]|chill out|shut up|stop (?:being|complaining)|grow up",
        "dismissive command",
    ),
    (r"(?<![a-z])(?:ranting|drama)(?![a-z])", "belittling"),
    (r"maybe (?:open source|this|the community|lumen) isn't for you|not for you", "exclusion"),
)
# Mild hostility as classes of construct (tone-1.7), not phrases: talking down to the reader,
# passive-aggressive formulas, mock surprise and mock praise of a failure, rhetorical questions
# that blame. The sentence-level mechanisms (sentiment incongruity, condescending adverbs,
# praise taken back by "I suppose", scare quotes) are in copilot.tone._sarcasm_in_sentences.
_FAIL_ING = (
    r"(?:break|ignor|miss|delet|forgett|skipp|wip|brick|los|crash|ruin|mess|screw|"
    r"not read|not check|not look)ing"
)
HOSTILE_MILD = table(
    (
        r"as i (?:already |just |clearly )?(?:said|told you|explained)|like i (?:already )?said|"
        r"as (?:already |previously )(?:stated|mentioned|explained|said)|as stated|"
        r"i've (?:already )?said this|per my (?:last|previous|earlier)|as per my|"
        r"for the (?:second|third|fourth|fifth|last|hundredth|umpteenth|nth) time|"
        r"let me (?:say|explain|spell) (?:this|it|that) (?:again|slowly|out|one more time|once more)",
        "as I already said",
    ),
    (
        r"(?<!please )(?<!to )read the (?:docs|manual|faq|documentation|release notes|guide)|rtfm|use the search|search before posting|google it|do your (?:own )?(?:research|homework)",
        "read the docs",
    ),
    (
        r"(?:great|good|nice|brilliant|excellent|fine|amazing|stellar|impressive|fantastic|"
        rf"wonderful|superb) (?:job|work|effort|going|move|thinking),? (?:on |with )?{_FAIL_ING}",
        "sarcasm (mock praise of a failure)",
    ),
    (
        rf"great job reading|congrat\w* on {_FAIL_ING}|"
        r"way to (?:break|ruin|ignore|miss|lose|brick|wipe) (?:it|the|your|everything)",
        "sarcasm (mock praise of a failure)",
    ),
    (
        r"(?:^|\W)oh (?:great|wow|sure|yeah|joy|wonderful|nice|brilliant|perfect|lovely)|"
        r"yeah,? right|sure, because|because (?:that|this) (?:always )?(?:works|worked|went) "
        r"(?:so )?well|just what (?:we|i) (?:needed|wanted)|nothing like (?:a|an)\b|"
        r"when pigs fly|in your dreams|dream on|how's that working out|nice try|(?:^|\W)just wow",
        "sarcasm",
    ),
    (
        r"who (?:would have|would've|could have|could've) (?:thought|guessed|known|predicted)|"
        r"what a (?:surprise|shock)|big surprise|colou?r me (?:surprised|shocked)|shocking,? i know",
        "sarcasm (mock surprise)",
    ),
    # "Wow, two whole hours?": amazement asked as a question is mock surprise; "Wow, a
    # thousand posts!" is joy.
    (
        r"wow, (?:a|an|one|two|three|four|five|another|what)\b[^.!?]{0,50}\?|whole (?:hours?|minutes?|days?|week)\?",
        "sarcasm (mock surprise)",
    ),
    (r"quantity over quality", "sarcasm"),
    (
        r"enjoy (?:the |your )?(?:\w+ )?(?:darkness|wait|waiting|ride|outage|downtime|silence|"
        r"mess|crash\w*|bugs)|have fun\.|good luck with that|right after we|"
        r"thanks for nothing|thanks for (?:the|your) (?:lecture|attitude|essay|sermon|novel)|"
        r"thanks for (?:wasting|ruining)|thanks, (?:i guess|genius)|must be nice|how nice for you",
        "sarcasm",
    ),
    (r"another (?:\w+ )?(?:drama|one of these)|love these\.", "sarcasm"),
    (
        r"anyone can find|if (?:you|they) look(?:ed)? for more than|not rocket science|"
        r"it's not (?:that )?(?:hard|difficult|complicated)|how hard (?:is|can) it be|"
        r"how hard is it to|is it (?:really )?(?:that|so) (?:hard|difficult) to|come on\.|"
        r"(?:it's |use (?:some )?)common sense|everyone knows|as anyone (?:can|could) (?:see|tell)",
        "condescension",
    ),
    # Rhetorical questions that blame. "Did you try the Automations tab?" is a real question;
    # "did you even / actually / bother", "did you try reading the docs" are not.
    (
        r"did you (?:even|actually|ever even|bother)\b|did you (?:check|look|search) "
        r"(?:before|first)|(?:did you|have you) (?:try|tried) (?:reading|googling|searching first)|"
        r"have you (?:even|actually) (?:read|tried|looked|checked|bothered|searched)|"
        r"do you (?:even|actually) (?:read|know|understand|care)|can(?:'t| not) you read|"
        r"what did you expect|what were you thinking|who in (?:their|your) right mind|"
        r"are you (?:serious|kidding|joking)\?|(?:^|\W)seriously\?",
        "condescension (rhetorical question)",
    ),
    (
        r"(?:didn't|did not|never|not even) bother(?:ed)? to|bothered to (?:read|check|look|search)",
        "condescension",
    ),
    (
        r"surely you (?:can|could|must|know|understand|realise|realize|see|have|read)|"
        r"you do (?:realise|realize|understand|know) (?:that|this|it|you)|"
        r"as you (?:can clearly|should|ought to|would|must) (?:see|know)|"
        r"i'm sure you'll (?:manage|cope|survive|live)|you'll live|bless your (?:heart|soul)|"
        r",\s*(?:sweetie|sweetheart|honey|kiddo|champ|sunshine)(?![a-z])|some of us (?:actually|have|read|work)",
        "condescension",
    ),
    (
        r"with all due respect|no offen[cs]e,? but|not to be rude,? but|i hate to break it to you|"
        r"news ?flash|spoiler alert",
        "passive aggression",
    ),
    # Dismissal: "whatever." closes the conversation; "whatever you need" opens it.
    (r"(?<![a-z])(?:fine, if|whatever(?=[.!,]|$))|not much we can do", "dismissive"),
    (
        r"(?:asked|answered|covered|discussed|explained) (?:(?:a|like a|about a) )?(?:million|hundred|"
        r"thousand|dozen|many) times",
        "condescension",
    ),
    (r"yes, it kind of is", "dismissive"),
)

# Sentence-level sarcasm cues (used by copilot.tone._sarcasm_in_sentences) --------------------
# A positive interjection opening a sentence: "Great," "Wonderful." "Oh, brilliant!" "Well done."
POS_INTERJECTION = rx(
    r"^(?:oh,? |well,? |just |how |so |really )?(?:great|wonderful|perfect|fantastic|brilliant|"
    r"lovely|terrific|awesome|super|excellent|marvell?ous|splendid|fabulous|nice|cool|sweet|"
    r"amazing|well done|good job|great job|nice job|nice work|great work|congrats|"
    r"congratulations|bravo|kudos|thanks a lot|thanks so much|thank you so much)"
    r"\s*(?:[,.!:;\u2014\u2013-]+\s*|$)"
)
# What keeps the rest sincere: an apology, thanks, help, a fix, a commitment, a request.
SINCERE_CUE = rx(
    r"(?<![a-z])(?:sorry|apolog\w*|thank\w*|glad|happy|help\w*|fix\w*|work(?:s|ing|ed)|solv\w*|"
    r"resolv\w*|welcome|we'll|we will|i'll|let me|could you|can you|please|so (?:we|i) can|"
    r"shows?|found|love having|proud)(?![a-z])"
)
# Situation cues that make praise ironic on their own ("Great, another ...") or with a
# negative situation ("Great, now it's broken again").
SARCASM_CUE_STRONG = rx(
    r"(?<![a-z])(?:another|yet another|just what|as if|nothing like|my favou?rite|can't wait)(?![a-z])"
)
SARCASM_CUE_WEAK = rx(r"(?<![a-z])(?:now|again|more|still|of course|even)(?![a-z])")
# A negative situation beyond VADER's lexicon: what goes wrong in a product community.
PROBLEM_WORDS = rx(
    r"(?<![a-z])(?:crash\w*|broke\w*|bug\w*|wip\w*|brick\w*|lost|gone|dead|(?:is|are|was|"
    r"went|still) down|fail\w*|"
    r"outage|errors?|duplicates?|didn't|did not|doesn't|can't|won't|never|nobody|no one)(?![a-z])"
)
# "Progress, I suppose!": praise taken back at the end of a short sentence.
TAKEN_BACK = rx(r"^(?P<head>[^,]{1,40}?),? i (?:suppose|guess)[.!]*$")
PRAISE_WORDS = frozenset(
    "progress congrats congratulations impressive good nice great well done thanks cool fine "
    "lucky brave improvement bold cute fun useful helpful clever".split()
)
# Condescending adverbs, unless the sentence owns the problem or grants the reader's point ("Obviously this shouldn't have
# happened, and I'm sorry", "Clearly we should have put this in the FAQ").
# "Obviously" as a comment on the reader ("Obviously it works offline", "Move it, obviously"),
# not as a degree adverb inside a phrase ("obviously unsafe code").
CONDESCENDING_ADVERB = rx(
    r"(?:^|, |\u2014 ?|-- )obviously|obviously(?:[,.!]|$| (?:you|it|it's|this|that|the|not|"
    r"is|isn't|was|wasn't|doesn't|don't|can|can't|should|need|needs|have|has|most|every))|"
    r"(?<![a-z])literally(?![a-z])"
)
CLEARLY_AT_READER = rx(
    r"(?<![a-z])(?:clearly (?:you|says|states|written|explained|stated)|you clearly|"
    r"it's clearly|it clearly)"
)
OWNS_IT = rx(
    r"(?<![a-z'])(?:we|we're|we've|we'll|our|us|i'm|i am|i've|sorry|apolog\w*|my (?:bad|fault)|"
    r"shouldn't have happened|that's fair|fair enough|understandable|makes sense|you're right)"
    r"(?![a-z])"
)
# Scare quotes around a few of the member's own words: your "whole evening". Quotes around UI
# labels, error messages and file names are instructions, not mockery, and "the "lol" in your
# reply" mentions a word rather than mocking it (so no "the").
SCARE_QUOTE = rx(
    r"(?<![a-z])(?:your|this|that|so-called|such (?:a|an)) "
    r"[\"\u201c'](?P<q>[a-z][a-z' -]{1,30}?)[\"\u201d'](?! ?(?:error|message|warning|screen|"
    r"button|setting|option|tab|menu|page|toggle|field|mode|label|status|prompt|"
    r"notification|code|command|folder|file|link|section|app|feature))"
)

# Over-promising ------------------------------------------------------------------------------
_FIRST_FUT = r"(?:we'll|we will|i'll|i will|we're going to|i'm going to|we can|i can|we've|i've|we have|i have|we are|we're|will)"
PROMISE_EXPLICIT = table(
    (
        rf"{_FIRST_FUT} (?:\w+ ){{0,4}}(?:refund\w*|reimburs\w*|compensat\w*)"
        r"(?! (?:form|ticket|request|process|policy|page|route|team|option))",
        "refund / compensation promised",
    ),
    (r"(?:refund(?:ed)? you|full refund|be refunded|refunded to)", "refund promised"),
    (
        rf"{_FIRST_FUT} (?:\w+ ){{0,3}}(?:provide|offer|give|send|issue|process|arrange|get)"
        r"(?: you| them)?(?: with)? (?:a |an |your |the )?(?:full |free |brand new |new )?"
        r"(?:replacement|refund|reimbursement|compensation|credit)s?\b"
        r"(?! (?:form|ticket|request|process|policy|page|route|team|option))",
        "refund / replacement promised",
    ),
    (
        rf"{_FIRST_FUT} (?:\w+ ){{0,3}}(?:send|give|ship|replace|add|sponsor|pay)(?: you| them)? "
        r"(?:a |an |your |you |all )?(?:brand |whole |full )?(?:free\b|replacements?\b|credit\b|"
        r"discount|\$\d+|\d+% |pizza|new (?:hub|bulb|device|unit|one|controller|light|kit)|"
        r"(?:hub|bulb|device|unit|controller)s?\b)",
        "replacement / gift promised",
    ),
    (
        r"(?:free of charge|for free|free month|free \w+ (?:hub|kit)|lifetime \w+|\$\d+ credit|\d+% discount)",
        "compensation promised",
    ),
    (r"guarantee\w*|(?<![\d.])100 ?%|i promise|we promise|promise[!.]", "guarantee"),
    (
        r"(?:never|won't|will not) (?:ever )?happens? again|make sure (?:it|this) (?:never|won.t)",
        "guarantee: never again",
    ),
    (
        r"(?:ships?|shipping|releases?|released|coming|lands?|arriv\w+|available|out|launch\w*|"
        r"fix\w*|(?<!get )(?<!check )(?<!come )(?<!circle )(?<!report )back|banned|going (?:straight )?into|be (?:fixed|resolved|live|done|ready))"
        r"(?:\s+\w+){0,5}?\s+(?:next (?:week|month|friday|monday|tuesday|wednesday|thursday|"
        r"saturday|sunday|release)|tomorrow|on (?:\d{1,2} \w+|monday|tuesday|"
        r"wednesday|thursday|friday|saturday|sunday)|in (?:january|february|march|april|may|june|"
        r"july|august|september|october|november|december)|by (?:the )?end of|within (?:\d+|an?|"
        r"the) (?:minutes?|hours?|days?|weeks?|hour)|in \d+ (?:minutes|days|weeks)|on friday|"
        r"next release)",
        "date or timeline promised",
    ),
    (r"(?:in|into) (?:lumenos )?\d+\.\d+(?:\.\d+)? (?:on|in|next) \w+", "release date promised"),
    (
        r"(?:will|'ll) (?:be |get |have (?:it |this |them )?)?(?:\w+ ){0,2}(?:fixed|back|resolved|"
        r"refunded|replaced|shipped|released|live|banned|available|out|working)"
        r"(?:\s+\w+){0,3}?\s+(?:today|tonight|right away|immediately|this (?:afternoon|evening))",
        "same-day outcome promised",
    ),
)
PROMISE_SOFT = table(
    (
        r"i'm sure (?:it|everything|we|your|they)|i am sure (?:it|everything|we)",
        "reassurance without basis",
    ),
    (r"(?:back|fixed|sorted|resolved|normal)(?: out)? (?:soon|shortly)", "vague timeline"),
    (
        r"(?:will|it'll) be (?:fine|ok|okay|alright)|won't break|nothing to worry|no need to worry|don't worry",
        "reassurance without basis",
    ),
    (r"should be back soon|very soon|any minute", "vague timeline"),
)

# Defensiveness -------------------------------------------------------------------------------
BLAME = table(
    (r"you should(?:n't)? have|you shouldn't|you ought to have", "you should have"),
    (r"user error|operator error|pebkac|your (?:own )?fault|on your (?:side|end)", "user error"),
    (
        r"you (?:didn't|did not|never|don't) (?:read|follow|check|look)|did you read",
        "you didn't read",
    ),
    (r"users? should (?:keep|read|check|have|know)|people should", "users should"),
    (r"your own (?:network|setup|wifi|connection|router|device)", "presumes member error"),
    (
        r"as the (?:release notes|docs|guide|setup guide|faq|manual|documentation) (?:say|says|explains?|state)",
        "as the docs say",
    ),
    (r"like the (?:setup )?guide says|which the (?:setup )?guide explains", "as the docs say"),
)
EXCUSE = table(
    (
        r"not (?:really )?(?:our|my|lumen's) (?:fault|responsibility|problem)|not by lumen",
        "not our fault",
    ),
    (
        r"caused by (?:our |the )?(?:hosting|provider|carrier|third|partner|bank)|(?:carrier|provider|bank) is responsible|handled by the payment provider",
        "blames a third party",
    ),
    (
        r"tested (?:extensively|thoroughly)|works (?:fine |perfectly )?for (?:everyone|most|all)|for most people",
        "works for everyone else",
    ),
    (r"nobody else|no one else|everyone else (?:is|has|seems)", "works for everyone else"),
    (
        r"before posting|search before|next time|read the guide first|read the (?:docs|release notes) first",
        "lectures the member",
    ),
    (r"if you can't (?:handle|take|deal)", "turns it on the member"),
    (
        r"expected behaviou?r|documented behaviou?r|not a bug|arguably|working as intended|by design",
        "not a bug",
    ),
    (
        r"that's (?:just )?how (?:he|she|they|it) (?:is|are)|just very direct|take it personally",
        "minimises the hurt",
    ),
    (
        r"take (?:privacy|security) (?:very )?seriously|no reason to worry|completely secure",
        "denial",
    ),
    (r"to be fair|(?:^|\W)however,", "excuse"),
    (r"we understand, however", "minimises"),
)

# Prompt leak ---------------------------------------------------------------------------------
PROMPT_LEAK = table(
    (
        r"begin untrusted|end untrusted|untrusted member content|<\s*/?\s*untrusted",
        "untrusted fence",
    ),
    (
        r"system prompt|my (?:system )?instructions|i (?:was|am|have been) instructed|my prompt",
        "mentions its instructions",
    ),
    (r"as an ai|as a language model|i'm an ai|i am an ai", "AI self-reference"),
    (r"<\|im_(?:start|end)\|>|\[/?inst\]|###\s*(?:instruction|system)", "chat template tokens"),
    (r"you are a (?:helpful|community|friendly) (?:assistant|manager)", "echoes the system prompt"),
)

# Clarity -------------------------------------------------------------------------------------
NEXT_STEP = table(
    (
        r"(?:^|[.!?:;]\s+|\n|please |could you |can you |would you |then |first,? |just |to )"
        r"(?:go to|open|tap|click|choose|select|hold|press|enter|turn (?:on|off)|switch|restart|"
        r"move|try|check|send|share|install|update|reset|add|create|make sure|keep|use|contact|"
        r"email|message|post|visit|head to|start|set|change|remove|unplug|plug)\s",
        "concrete action",
    ),
    (r">\s?[a-z][\w ]{0,20}(?:\s?>\s?[a-z][\w ]{0,20})*", "menu path"),
    (
        r"(?:open|file|submit) a (?:support )?ticket|support ticket|private message|direct message|ticket form",
        "ticket / contact route",
    ),
    (r"(?:guide|thread|category|docs|documentation|faq|video|link|page|channel)\b", "resource"),
    (
        r"next update|we'll post|will post an update|update (?:here|on this thread) by",
        "next update time",
    ),
    (r"workaround|in the meantime|until then|for now,", "workaround"),
)
# Jargon: a few words from the dev half plus generic shapes (acronyms, mixed-case or
# digit-bearing tokens) counted in copilot.tone.
JARGON = rx(
    r"(?<![a-z])(?:ring buffer|scheduler|allocation|semantics|commissioning|feature flag|"
    r"border router|firmware blob|backend|frontend|middleware|runtime|kernel|daemon|payload|"
    r"endpoint|latency|throughput|mutex|heap|stack trace|regex|config|idempotent)(?![a-z])"
)
PLAIN_ACRONYMS = frozenset(
    "UTC GMT FAQ OK US UK EU TV PR DM PM AM USB LED PIN ID PDF IOS APP URL FYI BTW CEST CET "
    "PST EST MQTT HTTP HTTPS WIFI GHZ".split()
)
_TECH_STRIP = ".,;:!?()[]\"'"


def tech_tokens(text: str) -> list[str]:
    """Acronyms, camelCase / mixed-case, dotted versions with 3+ parts and a/b tokens."""
    out: list[str] = []
    for raw in text.split():
        w = raw.strip(_TECH_STRIP)
        if len(w) < 2 or w in PLAIN_ACRONYMS:
            continue
        if w.isupper() and w.isalpha() and len(w) <= 6:
            out.append(w)
        elif w[1:] != w[1:].lower() and w != w.upper():
            out.append(w)
        elif w.count(".") >= 2 and w[0].isdigit():
            out.append(w)
        elif "/" in w and w.replace("/", "").isalpha() and len(w) <= 8:
            out.append(w)
    return out
