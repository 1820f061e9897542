"""Typed text to ELIZA's words and back."""
from llmos.classic.eliza.words import Token, render, tokenize


def test_tokenize_splits_words_and_delimiters():
    toks = tokenize("Well, I don\u2019t know. Is it Paris?")
    assert [t.key for t in toks] == ["WELL", ",", "I", "DON'T", "KNOW", ".", "IS", "IT", "PARIS", "?"]
    # sentence-initial capitals are dropped, other capitals kept
    assert [t.text for t in toks if t.key in ("WELL", "IS", "PARIS")] == ["well", "is", "Paris"]


def test_tokenize_drops_other_characters_and_lowers_shouting():
    toks = tokenize('MY "BOAT" (THE RED ONE) -- SANK')
    assert [t.key for t in toks] == ["MY", "BOAT", "THE", "RED", "ONE", "SANK"]
    assert all(t.text == t.key.lower() for t in toks)


def test_render_attaches_punctuation_and_capitalises_sentences():
    toks = [Token.from_script(w) for w in "WHY DO YOU SAY YOUR".split()] + [Token("BOAT", "boat"),
            Token.from_script("?"), Token.from_script("I'M"), Token.from_script("LISTENING"),
            Token.from_script(".")]
    assert render(toks) == "Why do you say your boat? I'm listening."
    assert render(toks, teletype=True) == "WHY DO YOU SAY YOUR BOAT? I'M LISTENING."


def test_mixed_case_script_words_keep_their_case():
    assert Token.from_script("Fresnel").text == "Fresnel"
    assert Token.from_script("LENS").text == "lens"
