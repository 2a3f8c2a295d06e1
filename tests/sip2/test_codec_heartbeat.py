"""A repeated 99 heartbeat with the same sequence number is a new request, not a retry."""

from __future__ import annotations

from sip2.codec import ACSStatus, Connection, Replay, SCStatus, TerminalSettings


def test_identical_heartbeats_are_each_answered_afresh() -> None:
    kiosk, acs = Connection("sc", TerminalSettings()), Connection("acs", TerminalSettings())
    heartbeat = kiosk.send(SCStatus(max_print_width=40))
    for _ in range(2):
        acs.receive_data(heartbeat)
        event = acs.next_event()
        assert isinstance(event, SCStatus) and not isinstance(event, Replay)
        acs.send(
            ACSStatus(
                online_status=True,
                checkin_ok=True,
                checkout_ok=True,
                acs_renewal_policy=True,
                status_update_ok=True,
                offline_ok=False,
                timeout_period=999,
                retries_allowed=3,
                date_time_sync=None,
                institution_id="main",
                library_name="L",
                supported_messages=frozenset({"99"}),
            )
        )
