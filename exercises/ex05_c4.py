"""Chapter 5 exercises: cleaning web text into C4 (paper §2.2).

The paper turns raw Common Crawl pages into the Colossal Clean Crawled Corpus with a short list
of heuristics: some drop single lines, others whole pages. Write two of the filters. Grade with
`make grade EX=5.1` or `minit5 grade 5`.
"""
from minit5.data.cleaning import count_sentences


def keep_line(line):
    """Exercise 5.1: does a line survive C4's line rules (paper §2.2)?

    A line is dropped when any of these holds:
      * it has fewer than 5 words (words are the pieces `line.split()` returns: any run of
        whitespace, tabs and other Unicode spaces included, separates two words);
      * it has a word longer than 1000 characters (a run of text with no space in it);
      * it does not end in a terminal mark: `.`, `?`, `!` or a closing `"`; a line that ends
        in an ellipsis `...` is dropped too (it trails off rather than ends);
      * it contains "javascript", in any case (mostly "please enable JavaScript" warnings);
      * it contains policy boilerplate, in any case: "terms of use", "privacy policy",
        "cookie policy", "uses cookies", "use of cookies" or "use cookies".

    Args:
        line: one line of a page, without surrounding whitespace.

    Returns:
        True to keep the line, False to drop it.
    """
    # TODO: Exercise 5.1
    raise NotImplementedError("Exercise 5.1")


def keep_page(lines, bad_words=()):
    """Exercise 5.2: does a page survive C4's page rules (paper §2.2)?

    `lines` are the lines of one page that survived the line rules. The page is dropped when
    any of these holds for its text (the lines joined with newlines):
      * it contains "lorem ipsum", in any case (placeholder text);
      * it contains a curly bracket `{` (most such pages are code);
      * it contains one of `bad_words` as a whole word or phrase, in any case: the match must
        not have a letter, digit or underscore right before or right after it (with the bad word
        "cat", "A cat sat." is dropped but "Concatenate them." is not). Compare lower-cased
        text with lower-cased, stripped words, and skip blank entries;
      * it has fewer than 3 sentences: count them with `count_sentences(lines)` (imported above
        from minit5; how to split sentences is not the lesson here).

    Args:
        lines: list of strings, the page's kept lines.
        bad_words: iterable of words or phrases (C4 used an external list; may be empty).

    Returns:
        True to keep the page, False to drop it.
    """
    # TODO: Exercise 5.2
    raise NotImplementedError("Exercise 5.2")
