from llmos.reason.answers import extract_answer, normalize, same_answer


def test_markers_then_last_number():
    assert extract_answer("23-20=3. 3+5=8. The answer is 8.") == "8"
    assert extract_answer("so #### 1,250") == "1250"
    assert extract_answer("Final Answer: Paris.", numeric=False) == "Paris"
    assert extract_answer("x \\boxed{42} y") == "42"
    assert extract_answer("he had 3 then 9 left") == "9"
    assert extract_answer("he had 3 then 9 left", numeric=False) is None
    assert extract_answer("no idea") is None and extract_answer("") is None


def test_normalize_makes_equal_answers_equal():
    assert normalize("$1,000.") == normalize("1000") == "1000"
    assert normalize("2.50") == "2.5" and same_answer(" Paris", "paris.")
    assert not same_answer(None, None)


def test_an_expression_answer_is_kept_whole():
    assert extract_answer("... answer: 4*((9+10)-13)=24", numeric=False) == "4*((9+10)-13)=24"
    assert extract_answer("The answer is 16 apples.") == "16"
