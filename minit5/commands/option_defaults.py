"""Options that only some runs of a command read.

An option the run would ignore must not be accepted silently: the user would think it had been
used. Such options are declared with no argparse default (None: not given) and resolved here,
after parsing: a given option where it does not apply is refused, naming it; an option not
given gets its default.
"""
from __future__ import annotations


def resolve(args, options, applies: bool, refusal: str) -> None:
    """For each (attribute, option, default) of `options`: refuse the option if it was given
    and `applies` is false (ValueError: `refusal` formatted with the option's name); give it
    `default` if it was not given."""
    for name, option, default in options:
        if getattr(args, name) is None:
            setattr(args, name, default)
        elif not applies:
            raise ValueError(refusal.format(option=option))
