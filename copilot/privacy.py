"""Personal data masking: emails, phone numbers, payment cards, IBANs, street addresses, IPv4.

`mask_pii(text)` swaps each piece of personal data for a placeholder such as `[EMAIL_1]` and
returns the items needed to put it back; `unmask(text, items)` restores them (also when a model
echoed a placeholder as `[email_1]` or `[EMAIL 1]`). The same original always gets the same
placeholder, masking masked text changes nothing, and placeholder numbers never collide with
placeholders already present in the text.

What is deliberately NOT masked: version numbers (LumenOS 3.2.1), dates, times, prices, order
and ticket numbers (#48213), Luhn-invalid card-like numbers and IBANs with a bad checksum.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

from copilot.types import ChatMessage, MaskedItem

Kind = str  # one of MaskedItem.kind

PREFIX: dict[Kind, str] = {
    "email": "EMAIL",
    "phone": "PHONE",
    "card": "CARD",
    "address": "ADDRESS",
    "iban": "IBAN",
    "ip": "IP",
}

# A placeholder as we write it ("[EMAIL_1]") or as a model might echo it back ("[email 1]").
_ECHOED = re.compile(r"\[\s*(EMAIL|PHONE|CARD|ADDRESS|IBAN|IP)[ _-]?(\d+)\s*\]", re.IGNORECASE)

# Detectors ------------------------------------------------------------------------------------

_EMAIL = re.compile(
    r"(?<![\w.+-])[A-Za-z0-9][A-Za-z0-9._%+-]*@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?"
    r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*\.[A-Za-z]{2,24}(?![\w-])"
)

_IBAN = re.compile(r"(?<![\w])[A-Z]{2}\d{2}(?:[ ]?[A-Z0-9]{4}){2,7}(?:[ ]?[A-Z0-9]{1,3})?(?![\w])")

_CARD = re.compile(r"(?<![\w#.,/-])\d(?:[ -]?\d){12,18}(?![\w.,/-]\d|\w)")

_CARD_GROUPS = re.compile(
    r"^(?:\d{13,19}|\d{4}([ -])\d{4}(?:\1\d{4}){1,2}(?:\1\d{3,4})?|\d{4}([ -])\d{6}\2\d{4,5})$"
)

_IPV4 = re.compile(
    r"(?<![\w.])(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(?:\.(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}"
    r"(?![\w]|\.\d)"
)

# Candidate phone: optional +country, then digit groups separated by one space, dash, dot or
# a parenthesised area code. Validated in `_phone_ok`.
_PHONE = re.compile(
    r"(?<![\w#./:-])(?:\+\d{1,3}[ .-]?)?(?:\(\d{1,5}\)[ .-]?)?\d{2,5}(?:[ .-]\d{2,8}){0,4}(?![\w]|[.:/-]\d)"
)
_PHONE_WORDS = re.compile(
    r"(?:phone|tel|telephone|mobile|cell|call|text|whats\s?app|signal|fax|number|nr|no|reach me"
    r"|ring|handy|telefon|téléphone)\b[^\d\n]{0,20}$",
    re.IGNORECASE,
)
_NOT_PHONE_WORDS = re.compile(
    r"(?:order|ticket|invoice|serial|s/n|sn|version|firmware|fw|build|case|issue|pr|pull|"
    r"tracking|model|part|sku|id|ref|reference|batch|lot|v)\b[^\d\n]{0,12}$",
    re.IGNORECASE,
)
_DATE_LIKE = re.compile(r"^(?:\d{4}[-./]\d{1,2}[-./]\d{1,2}|\d{1,2}[-./]\d{1,2}[-./]\d{2,4})$")
_NANP = re.compile(r"^(?:\+?1[ .-]?)?(?:\(\d{3}\)|\d{3})[ .-]?\d{3}[ .-]\d{4}$")

_STREET_SUFFIX = (
    r"Street|St|Road|Rd|Avenue|Ave|Lane|Ln|Drive|Dr|Boulevard|Blvd|Way|Court|Ct|Place|Pl|"
    r"Square|Sq|Terrace|Close|Crescent|Parkway|Pkwy|Highway|Hwy|Row|Mews|Gardens|Grove|Hill"
)
_ADDRESS_PATTERNS: tuple[re.Pattern[str], ...] = (
    # 12 Baker Street, 221B Baker St., 1600 Pennsylvania Avenue NW
    re.compile(
        r"(?<![\w#.])\d{1,5}[A-Za-z]?,?\s+(?:[A-Z][\w'-]*\.?\s+){1,4}(?:" + _STREET_SUFFIX + r")\b"
        r"(?:\.(?=\s|$|,))?(?:\s+(?:NW|NE|SW|SE|N|S|E|W)\b)?"
    ),
    # Hauptstraße 5, Lindenweg 12a, Keizersgracht 123
    re.compile(
        r"\b[A-ZÄÖÜ][a-zäöüß-]+(?:straße|strasse|str\.|weg|gasse|allee|platz|ring|damm|ufer|"
        r"laan|straat|gracht|plein|steeg|vej|gade|gatan|vägen)\s+\d{1,4}[a-z]?\b"
    ),
    # Via Roma 10, Rue de Rivoli 12, Calle Mayor 3
    re.compile(
        r"\b(?:Rue|Avenue|Boulevard|Via|Viale|Calle|Avenida|Rua|Piazza|Plaza|Carrer)\s+"
        r"(?:(?:de|del|della|des|du|la|le|di|da|do)\s+)?[A-Z][\w'-]+(?:\s+[A-Z][\w'-]+)?,?\s+"
        r"\d{1,4}[a-z]?\b"
    ),
    # 10 rue de Rivoli
    re.compile(
        r"(?<![\w#.])\d{1,4}(?:\s?(?:bis|ter))?,?\s+(?:rue|avenue|boulevard|bd|allée|place|chemin)"
        r"\s+(?:(?:de la|de|du|des|d')\s*)?[A-Z][\w'-]+"
    ),
)


def luhn_valid(digits: str) -> bool:
    """True when a string of digits passes the Luhn check (payment cards)."""
    total = 0
    for index, char in enumerate(reversed(digits)):
        value = int(char)
        if index % 2 == 1:
            value *= 2
            if value > 9:
                value -= 9
        total += value
    return total % 10 == 0


def iban_valid(candidate: str) -> bool:
    """True when `candidate` (spaces allowed) has a valid IBAN mod-97 checksum."""
    compact = candidate.replace(" ", "").upper()
    if not 15 <= len(compact) <= 34 or not compact[:2].isalpha() or not compact[2:4].isdigit():
        return False
    rearranged = compact[4:] + compact[:4]
    numeric = "".join(str(int(char, 36)) for char in rearranged)
    return int(numeric) % 97 == 1


def _find_iban(text: str) -> Iterable[tuple[int, int]]:
    for match in _IBAN.finditer(text):
        start, candidate = match.start(), match.group(0)
        # Trailing groups may be a following word; shorten until the checksum passes.
        while len(candidate.replace(" ", "")) >= 15:
            if iban_valid(candidate):
                yield start, start + len(candidate)
                break
            cut = candidate.rfind(" ") if " " in candidate else len(candidate) - 1
            candidate = candidate[:cut].rstrip()


def _find_card(text: str) -> Iterable[tuple[int, int]]:
    for match in _CARD.finditer(text):
        raw = match.group(0)
        digits = re.sub(r"\D", "", raw)
        if not 13 <= len(digits) <= 19 or len(set(digits)) == 1:
            continue
        if not _CARD_GROUPS.match(raw) or re.search(r"[A-Z]{2}\d{2}[ ]?$", text[: match.start()]):
            continue  # cards are written 4-4-4-4(-3) or 4-6-5; "DE89 3704 ..." is an IBAN
        if luhn_valid(digits):
            yield match.start(), match.end()


def _phone_ok(text: str, start: int, candidate: str) -> bool:
    digits = re.sub(r"\D", "", candidate)
    if not 7 <= len(digits) <= 15:
        return False
    before = text[max(0, start - 40) : start]
    if _NOT_PHONE_WORDS.search(before) or before.endswith(("#", "$", "€", "£", "v", "V")):
        return False
    compact = candidate.strip()
    if _DATE_LIKE.match(compact):
        return False
    groups = re.split(r"[ .()-]+", compact.lstrip("+"))
    groups = [g for g in groups if g]
    if "." in compact and not _NANP.match(compact) and not compact.startswith("+"):
        return False  # 3.2.1, 10.4.2026: versions and dates, not phones
    if compact.startswith("+"):
        return len(digits) >= 8
    if _NANP.match(compact):
        return True
    if compact.startswith("(") and len(groups) >= 2:
        return True
    if compact.startswith("0") and len(groups) >= 2 and len(digits) >= 9:
        return True  # local format with a trunk prefix: 0151 23456789, 020 7946 0958
    return bool(_PHONE_WORDS.search(before)) and (len(groups) >= 2 or len(digits) >= 9)


def _find_phone(text: str) -> Iterable[tuple[int, int]]:
    for match in _PHONE.finditer(text):
        start, candidate = match.start(), match.group(0).rstrip(" .-")
        if _phone_ok(text, start, candidate):
            yield start, start + len(candidate)


def _find_regex(pattern: re.Pattern[str]) -> Callable[[str], Iterable[tuple[int, int]]]:
    def find(text: str) -> Iterable[tuple[int, int]]:
        return ((m.start(), m.end()) for m in pattern.finditer(text))

    return find


def _find_ip(text: str) -> Iterable[tuple[int, int]]:
    for match in _IPV4.finditer(text):
        before = text[max(0, match.start() - 20) : match.start()]
        if re.search(r"(?:version|firmware|fw|lumenos|v)\s*$", before, re.IGNORECASE):
            continue
        yield match.start(), match.end()


def _find_address(text: str) -> Iterable[tuple[int, int]]:
    for pattern in _ADDRESS_PATTERNS:
        for match in pattern.finditer(text):
            yield match.start(), match.end()


# Order matters: earlier detectors claim their spans first.
DETECTORS: tuple[tuple[Kind, Callable[[str], Iterable[tuple[int, int]]]], ...] = (
    ("email", _find_regex(_EMAIL)),
    ("iban", _find_iban),
    ("card", _find_card),
    ("ip", _find_ip),
    ("phone", _find_phone),
    ("address", _find_address),
)


# Masking --------------------------------------------------------------------------------------


@dataclass
class Masker:
    """Masks several texts with one shared numbering (a conversation, a batch of messages)."""

    items: list[MaskedItem] = field(default_factory=list)

    def _placeholder(self, kind: Kind, original: str, reserved: set[str]) -> str:
        for item in self.items:
            if item.kind == kind and item.original == original:
                return item.placeholder
        prefix = PREFIX[kind]
        used = {item.placeholder for item in self.items} | reserved
        number = 1
        while f"[{prefix}_{number}]" in used:
            number += 1
        placeholder = f"[{prefix}_{number}]"
        self.items.append(MaskedItem(kind=kind, placeholder=placeholder, original=original))  # type: ignore[arg-type]
        return placeholder

    def mask(self, text: str) -> str:
        """Return `text` with personal data replaced; new items are added to `self.items`.

        Detectors look at the characters around a match, and a placeholder changes them, so
        masking repeats until nothing more is found: masking the result changes nothing.
        """
        for _ in range(4):
            masked = self._mask_once(text)
            if masked == text:
                break
            text = masked
        return text

    def _mask_once(self, text: str) -> str:
        if not text:
            return text
        # Placeholders already in the text are kept as they are and their numbers are reserved.
        claimed: list[tuple[int, int]] = [(m.start(), m.end()) for m in _ECHOED.finditer(text)]
        reserved = {f"[{m.group(1).upper()}_{m.group(2)}]" for m in _ECHOED.finditer(text)}
        found: list[tuple[int, int, Kind]] = []
        for kind, detect in DETECTORS:
            for start, end in detect(text):
                if start >= end or any(start < b and a < end for a, b in claimed):
                    continue
                claimed.append((start, end))
                found.append((start, end, kind))
        if not found:
            return text
        found.sort()
        parts: list[str] = []
        cursor = 0
        for start, end, kind in found:
            parts.append(text[cursor:start])
            parts.append(self._placeholder(kind, text[start:end], reserved))
            cursor = end
        parts.append(text[cursor:])
        return "".join(parts)


def mask_pii(
    text: str, existing: Sequence[MaskedItem] | None = None
) -> tuple[str, list[MaskedItem]]:
    """Mask personal data in `text`. Returns the masked text and every item (existing + new).

    Pass `existing` to continue a numbering (same original, same placeholder across texts).
    """
    masker = Masker(list(existing or []))
    return masker.mask(text), masker.items


def unmask(text: str, items: Sequence[MaskedItem]) -> str:
    """Put the originals back. Tolerates placeholders a model echoed as `[email_1]`, `[EMAIL 1]`."""
    if not items or not text:
        return text
    by_placeholder = {item.placeholder: item.original for item in items}

    def restore(match: re.Match[str]) -> str:
        key = f"[{match.group(1).upper()}_{match.group(2)}]"
        return by_placeholder.get(key, match.group(0))

    return _ECHOED.sub(restore, text)


def mask_messages(
    messages: Sequence[ChatMessage], existing: Sequence[MaskedItem] | None = None
) -> tuple[list[ChatMessage], list[MaskedItem]]:
    """Mask every message's content with one shared numbering (before an external LLM call)."""
    masker = Masker(list(existing or []))
    masked = [m.model_copy(update={"content": masker.mask(m.content)}) for m in messages]
    return masked, masker.items


def placeholders_in(text: str) -> list[str]:
    """The canonical placeholders present in `text` (useful to check a model kept them)."""
    return [f"[{m.group(1).upper()}_{m.group(2)}]" for m in _ECHOED.finditer(text)]


__all__ = [
    "DETECTORS",
    "Masker",
    "iban_valid",
    "luhn_valid",
    "mask_messages",
    "mask_pii",
    "placeholders_in",
    "unmask",
]
