"""Streaming text: deltas add up to the full decode; stop strings split over tokens are caught."""
import pytest

from llmos.infer.detokenize import IncrementalDetokenizer, StopStrings
from llmos.text import Tokenizer

TEXT = "naïve café, 東京 😀 and plain words. " * 10


@pytest.fixture(scope="module")
def bpe():
    return Tokenizer.train_bpe([TEXT], vocab_size=280)


def test_deltas_add_up_to_the_decoded_text_even_mid_character(bpe):
    ids = bpe.encode("東京 😀 naïve")
    assert any("\ufffd" in bpe.decode([i]) for i in ids)    # some tokens are half a character
    detok = IncrementalDetokenizer(bpe)
    deltas = [detok.add(i) for i in ids]
    assert "".join(deltas) == "東京 😀 naïve"
    assert not any("\ufffd" in d for d in deltas)


def test_stop_string_split_over_deltas_is_never_shown():
    stops = StopStrings(["\nUser:"])
    shown = []
    for piece in ["Hello", " there", "\nUs", "er: next"]:
        out, hit = stops.feed(piece)
        shown.append(out)
        if hit:
            break
    assert hit and "".join(shown) == "Hello there"
    assert shown[2] == ""                                    # "\nUs" was held back


def test_held_text_that_is_not_a_stop_is_released():
    stops = StopStrings(["\nUser:"])
    a, _ = stops.feed("one\nUs")
    b, _ = stops.feed("ually")
    assert (a, b) == ("one", "\nUsually")
    stops = StopStrings(["END"])
    stops.feed("the EN")
    assert stops.flush() == "EN"


def test_earliest_of_several_stops_wins():
    out, hit = StopStrings(["b", "cd"]).feed("xxcdb")
    assert hit and out == "xx"
