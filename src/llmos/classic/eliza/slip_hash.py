"""SLIP's HASH, which chose ELIZA's MEMORY transformation.

The 1966 paper says a MEMORY transformation is "randomly selected". The MAD-SLIP
source of ELIZA (found in Weizenbaum's MIT archive in 2021) shows that it is not:

    I=HASH.(BOT.(INPUT),2)+1
    NEWBOT.(REGEL.(MYTRAN(I),INPUT,LIST.(MINE)),MYLIST)

`BOT.(INPUT)` is the last cell of the input's SLIP list: its last word, or for a
word longer than six letters its last six-letter chunk (a 36-bit IBM 7094 word
holds six 6-bit BCD characters, left-justified and padded with blanks). The
SLIP function HASH(D, N), found in the same archive in 2022 (a FAP routine),
is a mid-square hash: the middle N bits of the square of D's 35 magnitude bits.

    D  = the cell's six BCD characters as one 36-bit number
    HASH(D, N) = ((D & (2^35 - 1))^2 >> (35 - N // 2)) & (2^N - 1)

The paper's own example checks it: HASH("ALWAYS", 7) = 14, and in its sample
conversation "... made me come here." stored the fourth transformation because
HASH("HERE", 2) = 3.
"""
from __future__ import annotations

# IBM 7090 BCD (Hollerith) codes, octal: digits 00-11, A-I 21-31, J-R 41-51,
# S-Z 62-71, blank 60; the apostrophe is 14 (printed as a prime on the Michigan
# character set the MAC system used).
_BCD = {" ": 0o60, "'": 0o14, "-": 0o40, ".": 0o33, ",": 0o73, "+": 0o20, "=": 0o13, "/": 0o61}
_BCD.update({str(d): d for d in range(10)})
_BCD.update({c: 0o21 + i for i, c in enumerate("ABCDEFGHI")})
_BCD.update({c: 0o41 + i for i, c in enumerate("JKLMNOPQR")})
_BCD.update({c: 0o62 + i for i, c in enumerate("STUVWXYZ")})
CELL = 6  # characters per 36-bit machine word


def last_cell(word: str) -> str:
    """The last SLIP cell of `word`: all of it up to six letters, else its last chunk of six."""
    word = word.upper()
    return word[(max(len(word), 1) - 1) // CELL * CELL:]


def bcd_word(text: str) -> int:
    """Up to six characters as one 36-bit number, left-justified, blank-padded (unknown characters count as blanks)."""
    value = 0
    for ch in text[:CELL].ljust(CELL):
        value = value << 6 | _BCD.get(ch, _BCD[" "])
    return value


def slip_hash(d: int, n: int) -> int:
    """SLIP's HASH(D, N): the middle `n` bits (0 <= n <= 15) of D squared, sign bit dropped."""
    if not 0 <= n <= 15:
        raise ValueError(f"HASH gives 0 to 15 bits, not {n}")
    d &= (1 << 35) - 1          # the 7094 is sign-magnitude: bit 35 is the sign
    return (d * d >> (35 - n // 2)) & ((1 << n) - 1)


def memory_choice(last_word: str, count: int) -> int:
    """Which of `count` MEMORY transformations ELIZA applies to a text ending in `last_word`.

    With the four the 1966 program required, this is its HASH(BOT(INPUT), 2)
    exactly; a script with another number takes that value modulo the number.
    """
    return slip_hash(bcd_word(last_cell(last_word)), 2) % count
