"""One session's state: notes scrubbed and bounded, the url after the browser is gone, the info it reports."""
from llmos.agent.guards import CourseGuard
from llmos.agent.policy import Policy
from llmos.agent.session import MAX_NOTES, Pending, Session
from llmos.agent.trace import Tracer
from llmos.agent.vault import Vault
from llmos.agent.views import PolicyConfig, SessionOptions, StepResult, StepStatus


class Tab:
    def __init__(self, url):
        self._url = url

    @property
    def url(self):
        if self._url is None:
            raise RuntimeError("the browser has closed")
        return self._url


def session(tmp_path, url="https://shop.test/pay?card=4242424242424242", **kw):
    vault = Vault({"card": "4242424242424242"})
    return Session(id="s1", input="buy socks", start_url="https://shop.test/", options=SessionOptions(),
                   tab=Tab(url), policy=Policy(PolicyConfig(), "https://shop.test/"), vault=vault,
                   guard=CourseGuard(), tracer=Tracer(tmp_path / "s1", scrub=vault.scrub), **kw)


def test_notes_are_scrubbed_and_only_the_latest_are_kept(tmp_path):
    s = session(tmp_path)
    for i in range(MAX_NOTES + 3):
        s.add_note(f"note {i}: paid with 4242424242424242")
    assert len(s.notes) == MAX_NOTES
    assert s.notes[0] == "note 3: paid with {{secret:card}}"
    assert s.notes[-1] == f"note {MAX_NOTES + 2}: paid with {{{{secret:card}}}}"


def test_url_falls_back_to_the_last_result_when_the_browser_is_gone(tmp_path):
    s = session(tmp_path, url=None)
    assert s.url == ""
    s.last_result = StepResult(session_id="s1", step=3, status=StepStatus.DONE, message="ok",
                               url="https://shop.test/thanks")
    assert s.url == "https://shop.test/thanks"


def test_finished_and_info(tmp_path):
    s = session(tmp_path, steps=2)
    assert not s.finished and s.pending is None and Pending().question is None
    info = s.info()
    assert (info.id, info.input, info.steps, info.status) == ("s1", "buy socks", 2, StepStatus.CONTINUE)
    assert info.url == "https://shop.test/pay?card={{secret:card}}"
    assert info.trace_path == str(s.tracer.path)
    for status, done in [(StepStatus.ASK_USER, False), (StepStatus.DONE, True), (StepStatus.FAILED, True)]:
        s.status = status
        assert s.finished is done
    before = s.last_active
    s.touch()
    assert s.last_active >= before
