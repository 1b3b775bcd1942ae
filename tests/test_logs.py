from __future__ import annotations

import io
import json

from sageconnect import logs


def lines(stream: io.StringIO) -> list[dict[str, object]]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


def test_events_are_json_lines_with_bound_context() -> None:
    """Off a terminal, each event is one JSON object with its name, level and context."""
    out = io.StringIO()
    logs.configure("info", "auto", stream=out)
    log = logs.get().bind(company="acme", run_id="r1")
    log.info("sync_finished", inserted=3)
    log.debug("not_shown")
    (event,) = lines(out)
    assert event["event"] == "sync_finished"
    assert (event["company"], event["run_id"], event["inserted"], event["level"]) == (
        "acme",
        "r1",
        3,
        "info",
    )
    assert "timestamp" in event


def test_secrets_and_contacts_never_reach_the_log() -> None:
    """Secret-named keys, connection-string passwords, URL passwords and e-mails are masked."""
    out = io.StringIO()
    logs.configure("info", "json", stream=out)
    logs.get().error(
        "source_unavailable",
        password="canary-1",
        reason="connect failed: DSN=sage;UID=u;PWD=canary-2;",
        url="postgresql://u:canary-3@db/x",
        contact="jeanne.dupont@example.fr",
        detail={"api_key": "canary-4", "nested": ["PWD={canary-5}"]},
    )
    text = out.getvalue()
    assert "canary" not in text
    assert "jeanne.dupont" not in text
    (event,) = lines(out)
    assert event["reason"] == "connect failed: DSN=sage;UID=u;PWD=***;"


def test_tracebacks_carry_no_local_variables() -> None:
    """An exception is logged without the locals that could hold a secret."""
    out = io.StringIO()
    logs.configure("info", "json", stream=out)
    secret = "canary-local"
    try:
        raise RuntimeError("boom")
    except RuntimeError:
        logs.get().exception("job_failed", length=len(secret))
    text = out.getvalue()
    assert "canary-local" not in text
    (event,) = lines(out)
    assert event["exception"][0]["exc_type"] == "RuntimeError"  # type: ignore[index]


def test_console_tracebacks_are_scrubbed_and_carry_no_locals() -> None:
    """On the readable console format too, an exception's message is masked and
    its frames show no local variable."""
    out = io.StringIO()
    logs.configure("info", "console", stream=out)
    secret = "canary-local"
    try:
        raise RuntimeError("connect failed: DSN=sage;PWD=canary-2; for a@b.example")
    except RuntimeError:
        logs.get().exception("job_failed", length=len(secret))
    text = out.getvalue()
    assert "job_failed" in text
    assert "RuntimeError" in text
    assert "canary" not in text
    assert "a@b.example" not in text
