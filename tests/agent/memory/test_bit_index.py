import numpy as np
import pytest

from llmos.agent.memory.bit_index import BitIndex, sign_bits


def _brute(vectors, q, keep):
    """Hamming distances of the kept rows, computed bit by bit."""
    qb = np.asarray(q) > 0
    return {i: int(((np.asarray(v) > 0) != qb).sum()) for i, v in enumerate(vectors) if keep(i)}


def test_sign_bits_match_sqlite_vecs_quantizer():
    import apsw
    import sqlite_vec

    db = apsw.Connection(":memory:")
    db.enable_load_extension(True)
    db.load_extension(sqlite_vec.loadable_path())
    v = np.random.default_rng(0).standard_normal((3, 64)).astype(np.float32)
    for row in v:
        ref = db.execute("SELECT vec_quantize_binary(vec_f32(?))", (row.tobytes(),)).fetchall()[0][0]
        assert sign_bits(row[None])[0].tobytes() == ref


def test_nearest_is_the_brute_force_hamming_order_under_every_filter():
    rng = np.random.default_rng(1)
    vecs = rng.standard_normal((300, 128)).astype(np.float32)
    kinds = [("fact", "step", "message")[i % 3] for i in range(300)]
    live = [i % 5 != 0 for i in range(300)]
    idx = BitIndex(128, capacity=16)                       # grows while filling
    for s in range(0, 300, 70):
        idx.put(range(s + 1000, min(s + 70, 300) + 1000), vecs[s:s + 70], kinds=kinds[s:s + 70],
                created=[float(i) for i in range(s, min(s + 70, 300))], live=live[s:s + 70])
    q = rng.standard_normal(128)
    cases = [({}, lambda i: live[i]),
             ({"kinds": ["fact", "step"]}, lambda i: live[i] and kinds[i] != "message"),
             ({"since": 100, "until": 199.5, "live": None}, lambda i: 100 <= i <= 199),
             ({"live": False}, lambda i: not live[i])]
    for kw, keep in cases:
        got = idx.nearest(q, 25, **kw) - 1000
        ref = _brute(vecs, q, keep)
        assert all(keep(i) for i in got)
        assert [ref[i] for i in got] == sorted(ref.values())[:25]


def test_replace_remove_and_liveness_change_what_is_found():
    v = np.eye(64, dtype=np.float32)[:4] * 2 - 1
    idx = BitIndex(64)
    idx.put([1, 2, 3], v[:3], kinds=["fact"] * 3, created=[0, 0, 0], live=[True] * 3)
    assert idx.nearest(v[1], 1).tolist() == [2]
    idx.remove(2)
    assert 2 not in idx.nearest(v[1], 3).tolist() and len(idx) == 2
    idx.put([3], v[1][None], kinds=["fact"], created=[0], live=[True])      # 3 now holds vector 1
    assert idx.nearest(v[1], 1).tolist() == [3]
    idx.set_live(3, False)
    assert idx.nearest(v[1], 3).tolist() == [1]
    assert idx.nearest(v[1], 3, live=False).tolist() == [3]
    assert idx.nearest(v[1], 3, kinds=["step"]).tolist() == []


def test_a_dimension_that_is_not_a_multiple_of_64_is_padded_not_refused():
    rng = np.random.default_rng(2)
    vecs = rng.standard_normal((50, 100)).astype(np.float32)
    idx = BitIndex(100)
    idx.put(range(50), vecs, kinds=["fact"] * 50, created=[0.0] * 50, live=[True] * 50)
    ref = _brute(vecs, vecs[7], lambda i: True)
    got = idx.nearest(vecs[7], 10)
    assert got[0] == 7 and [ref[i] for i in got] == sorted(ref.values())[:10]
