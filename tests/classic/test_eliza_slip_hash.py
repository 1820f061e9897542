"""SLIP's HASH against the values the 1966 paper and the archived 1965 conversations fix."""
import pytest

from llmos.classic.eliza.slip_hash import bcd_word, last_cell, memory_choice, slip_hash


def test_bcd_word_packs_six_characters_left_justified_and_blank_padded():
    assert bcd_word("HERE") == 0o302551256060
    assert bcd_word("ALWAYS") == 0o214366217062
    assert bcd_word("") == 0o606060606060


def test_hash_matches_the_paper_and_the_archive():
    assert slip_hash(bcd_word("ALWAYS"), 7) == 14     # CACM 1966, p. 38
    assert slip_hash(bcd_word("HERE"), 2) == 3        # the paper's sample conversation
    assert slip_hash(bcd_word("KIDS"), 2) == 1        # the 5 March 1965 conversation
    assert slip_hash(bcd_word("TIME"), 2) == 0
    with pytest.raises(ValueError, match="0 to 15 bits"):
        slip_hash(1, 16)


def test_the_last_cell_of_a_long_word_is_its_last_chunk_of_six():
    assert last_cell("here") == "HERE"
    assert last_cell("ABCDEF") == "ABCDEF"
    assert last_cell("INVENTED") == "ED"
    assert memory_choice("INVENTED", 4) == memory_choice("ED", 4)


def test_memory_choice_reduces_the_hash_to_the_number_of_transformations():
    assert [memory_choice(w, 4) for w in ("TIME", "KIDS", "LEAKS", "HERE")] == [0, 1, 2, 3]
    assert [memory_choice(w, 2) for w in ("TIME", "KIDS", "LEAKS", "HERE")] == [0, 1, 0, 1]
