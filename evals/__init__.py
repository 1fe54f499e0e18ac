"""Tone evals: labelled replies, scorer validation, scoring files (`moments eval score`)."""
