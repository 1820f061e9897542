"""Text from tokens as they are generated, and stop strings found in it.

Decoding one token at a time does not work: a byte-level BPE token can hold
half a UTF-8 character, and SentencePiece tokenizers drop a word's leading
space when it starts the decoded text. So each new token's text is the
difference of two decodes over a short window that ends at it

    delta = decode(ids[prefix:]) - decode(ids[prefix:read])

and the window only moves on once the new text is whole (no trailing U+FFFD,
the replacement character of an incomplete byte sequence), as Hugging Face's
text-generation-inference does.

A stop string can arrive split over several tokens ("\\nUs" + "er:"), so text
that could be the start of a stop string is held back until it is clear.
"""
from __future__ import annotations


class IncrementalDetokenizer:
    """Feed token ids one by one; get back the text each one adds."""

    def __init__(self, tokenizer, skip_special_tokens: bool = False):
        self.tokenizer = tokenizer
        self.skip_special_tokens = skip_special_tokens
        self.ids: list[int] = []
        self.prefix = 0     # window start: decoding from here gives a stable string
        self.read = 0       # tokens up to here have been turned into text

    def add(self, token_id: int) -> str:
        self.ids.append(token_id)
        decode = self.tokenizer.decode
        before = decode(self.ids[self.prefix:self.read], skip_special_tokens=self.skip_special_tokens)
        after = decode(self.ids[self.prefix:], skip_special_tokens=self.skip_special_tokens)
        if len(after) > len(before) and not after.endswith("\ufffd"):
            self.prefix, self.read = self.read, len(self.ids)
            return after[len(before):]
        return ""


class StopStrings:
    """Watches generated text for stop strings; says what is safe to show.

    `feed(delta)` returns (text to emit now, whether a stop string was hit);
    on a hit the text is cut just before the stop string, as OpenAI's API does.
    """

    def __init__(self, stops: list[str]):
        self.stops = [s for s in stops if s]
        self.longest = max((len(s) for s in self.stops), default=0)
        self.text = ""      # everything generated so far (cut at a stop string when hit)
        self.sent = 0       # characters of self.text already emitted

    def feed(self, delta: str) -> tuple[str, bool]:
        if not self.stops:
            self.text += delta
            self.sent = len(self.text)
            return delta, False
        old = len(self.text)
        self.text += delta
        # a new match must end inside `delta`, so it starts at most longest-1 characters before it
        start = max(0, old - self.longest + 1)
        hits = [i for i in (self.text.find(s, start) for s in self.stops) if i != -1]
        if hits:
            cut = min(hits)
            self.text = self.text[:cut]
            out, self.sent = self.text[self.sent:], cut
            return out, True
        safe = len(self.text) - self._held()
        out = self.text[self.sent:safe] if safe > self.sent else ""
        self.sent = max(self.sent, safe)
        return out, False

    def _held(self) -> int:
        """Length of the longest tail of the text that begins some stop string."""
        for k in range(min(self.longest - 1, len(self.text)), 0, -1):
            tail = self.text[-k:]
            if any(s.startswith(tail) for s in self.stops):
                return k
        return 0

    def flush(self) -> str:
        """The held-back text, once generation has ended without a stop string."""
        out, self.sent = self.text[self.sent:], len(self.text)
        return out
