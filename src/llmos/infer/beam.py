"""Beam search for the encoder-decoder Transformer.

Greedy decoding keeps the single most likely token at each step; beam search
keeps the `beam_size` most likely partial outputs ("beams"), so a token that
looks second-best now can win once the words after it are seen. Each step:

    for every live beam b and token w:  score(b + w) = score(b) + log p(w | b, source)
    keep the best beam_size continuations; one ending in EOS becomes a finished hypothesis

A finished hypothesis is ranked by its length-normalised score
`score / length ** length_penalty` (as in Hugging Face `generate`): with
length_penalty 0 the raw log-probability, which favours short outputs; 1
ranks by mean log-probability per token. The search for a source ends once
it has beam_size finished hypotheses and the best live beam, normalised at
its current length, cannot beat the worst of them (exact for
length_penalty 0, since log-probabilities only fall as a beam grows; the
usual heuristic otherwise), or when max_new_tokens is reached.

All sources and their beams decode together as one batch of B * K rows;
`DecoderState.reorder` moves each row's KV cache to the beam it continues.
"""
from __future__ import annotations

import torch
from torch import Tensor

from llmos.nn.eval_mode import eval_mode


@torch.no_grad()
def beam_search(model, src: Tensor, src_padding_mask: Tensor | None = None, beam_size: int = 4,
                max_new_tokens: int | None = None, length_penalty: float = 1.0) -> list[list[int]]:
    """Best output for each source row: token ids without BOS and EOS.

    model: a `Seq2SeqTransformer` (encode / new_state / decode_step, config bos/eos/pad ids).
    src: (B, S) source ids; src_padding_mask: (B, S) True at padding.
    """
    if beam_size < 1:
        raise ValueError(f"beam_size must be >= 1, got {beam_size}")
    cfg = model.config
    with eval_mode(model):
        b, k = src.shape[0], beam_size
        n = cfg.max_len - 1 if max_new_tokens is None else max_new_tokens
        memory = model.encode(src, src_padding_mask)                                   # (B, S, C)
        memory = memory.repeat_interleave(k, dim=0)                                    # (B*K, S, C)
        mask = None if src_padding_mask is None else src_padding_mask.repeat_interleave(k, dim=0)
        state = model.new_state(memory, mask, n + 1)
        tokens = torch.full((b * k, 1), cfg.bos_id, dtype=torch.long, device=src.device)
        scores = torch.full((b, k), float("-inf"), device=src.device)
        scores[:, 0] = 0.0                                  # all beams start equal: expand only the first
        history = torch.zeros((b * k, 0), dtype=torch.long, device=src.device)        # (B*K, t)
        finished: list[list[tuple[float, list[int]]]] = [[] for _ in range(b)]
        done = [False] * b
        for t in range(n):
            logp = model.decode_step(tokens, state)[:, -1].float().log_softmax(-1)    # (B*K, V)
            v = logp.shape[-1]
            cand = (scores.reshape(b * k, 1) + logp).reshape(b, k * v)                 # (B, K*V)
            top, idx = cand.topk(min(2 * k, k * v), dim=-1)                           # (B, 2K): room for EOS
            beam_of, token_of = idx // v, idx % v
            new_scores = torch.full((b, k), float("-inf"), device=src.device)
            rows = torch.zeros((b, k), dtype=torch.long, device=src.device)
            next_tok = torch.full((b, k), cfg.pad_id, dtype=torch.long, device=src.device)
            for i in range(b):
                if done[i]:
                    continue
                kept = 0
                for s, beam, tok in zip(top[i].tolist(), beam_of[i].tolist(), token_of[i].tolist()):
                    if s == float("-inf"):
                        break
                    if tok == cfg.eos_id:
                        seq = history[i * k + beam].tolist()
                        finished[i].append((s / max(len(seq) + 1, 1) ** length_penalty, seq))
                        continue
                    new_scores[i, kept], rows[i, kept], next_tok[i, kept] = s, i * k + beam, tok
                    kept += 1
                    if kept == k:
                        break
                finished[i] = sorted(finished[i], key=lambda h: -h[0])[:k]
                best_alive = float(new_scores[i].max())
                if len(finished[i]) == k and (best_alive == float("-inf") or
                                              best_alive / (t + 2) ** length_penalty <= finished[i][-1][0]):
                    done[i] = True
            if all(done):
                break
            order = rows.reshape(-1)
            state.reorder(order)
            history = torch.cat([history[order], next_tok.reshape(-1, 1)], dim=1)
            tokens, scores = next_tok.reshape(-1, 1), new_scores
        out = []
        for i in range(b):
            if finished[i]:
                out.append(max(finished[i], key=lambda h: h[0])[1])
            else:                                        # nothing ended within the budget
                out.append(history[i * k + int(scores[i].argmax())].tolist())
        return out
