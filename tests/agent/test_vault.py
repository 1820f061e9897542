"""Secrets: filled only on request, scrubbed everywhere else."""
import pytest

from llmos.agent.vault import SecretError, Vault


def test_fill_replaces_placeholders_and_names_unknown_ones():
    v = Vault({"card": "4111111111111111", "pw": "hunter22"})
    assert v.fill("{{secret:pw}} and {{ secret:card }}") == "hunter22 and 4111111111111111"
    with pytest.raises(SecretError, match="no secret named 'pin'.*card, pw"):
        v.fill("{{secret:pin}}")
    assert "hunter22" not in repr(v)


def test_scrub_reaches_nested_values_and_grouped_digits():
    v = Vault({"card": "4111111111111111", "pw": "hunter22"})
    record = {"a": ["Charged 4111 1111-1111 1111", {"b": "pw=hunter22!"}], "n": 3}
    assert v.scrub(record) == {"a": ["Charged {{secret:card}}", {"b": "pw={{secret:pw}}!"}], "n": 3}
    assert Vault().scrub("hunter22") == "hunter22"


def test_longer_secret_is_scrubbed_whole_and_short_ones_refused():
    v = Vault({"short": "abcd", "long": "abcdefgh"})
    assert v.scrub("x abcdefgh y abcd") == "x {{secret:long}} y {{secret:short}}"
    with pytest.raises(SecretError, match="shorter than 4"):
        Vault({"pin": "12"})
    with pytest.raises(SecretError, match="may hold only"):
        Vault({"bad name": "12345"})
