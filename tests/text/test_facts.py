import pytest

from llmos.text.facts import RELATIONS, make_world


def test_the_world_is_seeded_and_holds_one_template_out_per_fact():
    a, b, c = make_world(3, persons=12, countries=8, companies=8), make_world(3, persons=12, countries=8, companies=8), \
        make_world(4, persons=12, countries=8, companies=8)
    assert a.facts == b.facts and a.facts != c.facts
    assert len(a.facts) == 2 * 12 + 2 * 8 + 2 * 8
    sentences = set(a.sentences())
    for f in a.facts:
        assert f.object in a.objects[f.relation]
        assert len(f.subject.split()) == 2                      # a first and a last token
        assert f"{a.prompt(f, f.held_out)} {f.object}" not in sentences
        for t in a.train_templates(f):
            assert f"{a.prompt(f, t)} {f.object}" in sentences
    # every template is still seen in training, with other facts
    for r in RELATIONS:
        for i in range(len(a.templates[r])):
            assert any(f.relation == r and f.held_out != i for f in a.facts)
    assert len({f.subject for f in a.facts}) == 12 + 8 + 8


def test_the_word_tokenizer_gives_one_token_per_word(tmp_path):
    world = make_world(0, persons=8, countries=4, companies=4)
    tok = world.tokenizer()
    f = world.facts[0]
    text = f"{world.prompt(f, 0)} {f.object}"
    ids = tok.encode(text, add_special_tokens=False)
    assert len(ids) == len(text.split()) and tok.unk_id not in ids
    assert tok.decode(ids) == text
    tok.save(tmp_path)
    from llmos.text.tokenizer import Tokenizer
    assert Tokenizer.load(tmp_path).encode(text, add_special_tokens=False) == ids
    assert world.training_text().startswith("<|endoftext|> ")


def test_unknown_relations_are_refused_and_a_subset_can_be_asked_for():
    with pytest.raises(ValueError, match="unknown relations"):
        make_world(0, relations=["height"])
    world = make_world(0, persons=10, relations=["sport"])
    assert {f.relation for f in world.facts} == {"sport"} and len(world.facts) == 10


def test_a_shared_name_pool_makes_only_whole_names_identify_a_subject():
    world = make_world(0, persons=40, countries=30, companies=0, name_pool=7,
                       relations=["sport", "birth_city", "capital", "language"])
    people = world.subjects["person"]
    words = {w for name in people for w in name.split()}
    assert len(people) == len(set(people)) == 40 and len(words) == 7
    for w in words:                                     # each word is the last name of several people
        assert sum(name.split()[1] == w for name in people) >= 2
    assert any(" ".join(reversed(n.split())) in people for n in people)      # order matters
    assert len({n.split()[1] for n in world.subjects["country"]}) == 7
    assert make_world(0, name_pool=7).facts == make_world(0, name_pool=7).facts
    with pytest.raises(ValueError, match="name_pool=1"):
        make_world(0, name_pool=1)
    with pytest.raises(ValueError, match="only 42 can be made"):
        make_world(0, persons=43, countries=0, companies=0, name_pool=7)
