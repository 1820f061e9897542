"""One wording for every refusal of a prompt, whichever way it is generated."""
import pytest

from llmos.infer.prompt_check import check_prompt


def test_a_good_prompt_passes():
    check_prompt([0, 5, 9], vocab_size=10, context=4)
    check_prompt(list(range(10)) * 3, vocab_size=10)          # no context given: any length


@pytest.mark.parametrize("ids,context,message", [
    ([], None, "the prompt is empty"),
    ([3, 10], None, "prompt token id 10 is outside the model's vocabulary of 10; was the prompt encoded"),
    ([-1], None, "prompt token id -1 is outside"),
    ([1.5], None, "prompt token id 1.5 is outside"),
    ([1, 2, 3, 4], 4, "the prompt has 4 tokens but the model's context is 4; shorten the prompt"),
])
def test_each_refusal_says_what_to_fix(ids, context, message):
    with pytest.raises(ValueError, match=message.replace(".", r"\.")):
        check_prompt(ids, vocab_size=10, context=context)
