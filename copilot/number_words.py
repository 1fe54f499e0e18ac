"""Number words as values, for the checks that compare the numbers a text states with the
numbers a record holds: the crisis fact-lock (copilot.factlock) and tone's invented-fact guard
(copilot.tone_facts). One table, so "seven" means 7 to both."""

from __future__ import annotations

SMALL_NUMBER_WORDS: dict[str, int] = {
    "one": 1,
    "two": 2,
    "three": 3,
    "four": 4,
    "five": 5,
    "six": 6,
    "seven": 7,
    "eight": 8,
    "nine": 9,
    "ten": 10,
}
