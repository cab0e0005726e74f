package model

import "testing"

func TestCallOutcome(t *testing.T) {
	yes := true
	cases := []struct {
		c    Call
		want string
	}{
		{Call{Status: CallRegistered}, ""},
		{Call{Status: CallOngoing}, ""},
		{Call{Status: CallEnded, DisconnectionReason: "user_hangup"}, OutcomeAnswered},
		{Call{Status: CallEnded, DisconnectionReason: "agent_hangup"}, OutcomeAnswered},
		{Call{Status: CallEnded, DisconnectionReason: "voicemail_reached"}, OutcomeVoicemail},
		{Call{Status: CallEnded, DisconnectionReason: "user_hangup", InVoicemail: &yes}, OutcomeVoicemail},
		{Call{Status: CallEnded, DisconnectionReason: "ivr_reached"}, OutcomeVoicemail},
		{Call{Status: CallNotConnected, DisconnectionReason: "dial_no_answer"}, OutcomeNoAnswer},
		{Call{Status: CallNotConnected}, OutcomeNoAnswer},
		{Call{Status: CallNotConnected, DisconnectionReason: "dial_busy"}, OutcomeBusy},
		{Call{Status: CallEnded, DisconnectionReason: "user_declined"}, OutcomeBusy},
		{Call{Status: CallError, DisconnectionReason: "dial_failed"}, OutcomeFailed},
		{Call{Status: CallEnded, DisconnectionReason: "invalid_destination"}, OutcomeFailed},
		{Call{Status: CallEnded, DisconnectionReason: "error_llm_websocket_open"}, OutcomeFailed},
		{Call{Status: CallError}, OutcomeFailed},
	}
	for _, c := range cases {
		if got := c.c.Outcome(); got != c.want {
			t.Errorf("%s/%s: %q, want %q", c.c.Status, c.c.DisconnectionReason, got, c.want)
		}
	}
}
