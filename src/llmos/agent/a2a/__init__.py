"""llmos.agent.a2a: agents talking to agents across processes, with the A2A protocol (a2a-sdk 1.x).

`server` makes an llmos agent an A2A server (Agent Card, SendMessage,
SendStreamingMessage, GetTask, CancelTask; `llmos agent serve --a2a`);
`worker` hires a remote A2A agent by URL as a worker of a team.
"""
