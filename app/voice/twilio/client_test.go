package twilio_test

import (
	"context"
	"errors"
	"net/http"
	"testing"
	"time"

	"masteria/app/sim/twiliosim"
	"masteria/app/voice/twilio"
)

const (
	sid   = "AC0123456789abcdef0123456789abcdef"
	token = "0123456789abcdef0123456789abcdef"
)

func start(t *testing.T) (*twiliosim.Server, *twilio.Client) {
	t.Helper()
	ts := twiliosim.New()
	base, err := ts.Start()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(ts.Close)
	ts.AddAccount(sid, token)
	return ts, twilio.New(base, base, sid, token, nil).WithRetries(3, time.Millisecond, 10*time.Second)
}

func status(err error) int {
	var e *twilio.Error
	if errors.As(err, &e) {
		return e.Status
	}
	return -1
}

// TestReadsWaitOutThrottling: a read answered 429 is tried again after the Retry-After
// Twilio sent (a second here), and 5xx answers are tried again too.
func TestReadsWaitOutThrottling(t *testing.T) {
	t.Parallel()
	ts, c := start(t)
	ctx := context.Background()
	tk, err := c.CreateTrunk(ctx, "T", "throttle-a.pstn.twilio.com")
	if err != nil {
		t.Fatal(err)
	}
	ts.Throttle(twiliosim.OpListTrunks, 1, "1")
	began := time.Now()
	got, found, err := c.TrunkByDomain(ctx, "throttle-a.pstn.twilio.com")
	if err != nil || !found || got.Sid != tk.Sid {
		t.Fatalf("after a 429: %+v %v %v", got, found, err)
	}
	if waited := time.Since(began); waited < time.Second {
		t.Fatalf("retried after %v, before the Retry-After of 1 s", waited)
	}
	ts.FailNext(twiliosim.OpListOriginations, http.StatusServiceUnavailable, 20503, "Service Unavailable")
	ts.FailNext(twiliosim.OpListOriginations, http.StatusInternalServerError, 20500, "Internal Server Error")
	if _, err := c.OriginationURLs(ctx, tk.Sid); err != nil {
		t.Fatalf("after two 5xx: %v", err)
	}
	// An HTTP date works as Retry-After too.
	ts.Throttle(twiliosim.OpFindNumber, 1, time.Now().Add(time.Second).UTC().Format(http.TimeFormat))
	if _, _, err := c.IncomingNumberByPhone(ctx, "+14155550100"); err != nil {
		t.Fatalf("after a 429 with a date: %v", err)
	}
}

// TestRetriesAreBounded: after its retries the client gives up with Twilio's 20429; a
// Retry-After longer than the client's longest wait is cut to it, and the caller's context
// ends the wait.
func TestRetriesAreBounded(t *testing.T) {
	t.Parallel()
	ts, c := start(t)
	ctx := context.Background()
	ts.Throttle(twiliosim.OpListTrunks, 5, "0")
	_, _, err := c.TrunkByDomain(ctx, "x.pstn.twilio.com")
	if status(err) != http.StatusTooManyRequests || twilio.CodeOf(err) != 20429 {
		t.Fatalf("after 4 tries: %v", err)
	}
	// 4 of the 5 were used: one is left, then Twilio answers.
	if _, _, err := c.WithRetries(0, 0, 0).TrunkByDomain(ctx, "x.pstn.twilio.com"); status(err) != http.StatusTooManyRequests {
		t.Fatalf("fifth: %v", err)
	}
	if _, _, err := c.WithRetries(0, 0, 0).TrunkByDomain(ctx, "x.pstn.twilio.com"); err != nil {
		t.Fatalf("sixth: %v", err)
	}
	// Retry-After of an hour, cut to 50 ms by the client.
	ts.Throttle(twiliosim.OpListTrunks, 1, "3600")
	if _, _, err := c.WithRetries(1, 0, 50*time.Millisecond).TrunkByDomain(ctx, "x.pstn.twilio.com"); err != nil {
		t.Fatalf("capped wait: %v", err)
	}
	// Retry-After of an hour, not cut: the context's end stops the wait with Twilio's answer.
	ts.Throttle(twiliosim.OpListTrunks, 1, "3600")
	short, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
	defer cancel()
	if _, _, err := c.WithRetries(3, 0, time.Hour).TrunkByDomain(short, "x.pstn.twilio.com"); status(err) != http.StatusTooManyRequests {
		t.Fatalf("cancelled wait: %v", err)
	}
}

// TestCreationsAreNotRetried: a 429 on a creation is answered as it is (the caller checks
// before it creates again), and nothing was created.
func TestCreationsAreNotRetried(t *testing.T) {
	t.Parallel()
	ts, c := start(t)
	ctx := context.Background()
	ts.Throttle(twiliosim.OpCreateTrunk, 1, "0")
	if _, err := c.CreateTrunk(ctx, "T", "once.pstn.twilio.com"); status(err) != http.StatusTooManyRequests {
		t.Fatalf("create: %v", err)
	}
	if n := len(ts.Trunks()); n != 0 {
		t.Fatalf("%d trunks after a refused creation", n)
	}
	ts.FailNext(twiliosim.OpBuyNumber, http.StatusServiceUnavailable, 20503, "Service Unavailable")
	if _, err := c.BuyNumber(ctx, "+14155550100", ""); status(err) != http.StatusServiceUnavailable {
		t.Fatalf("buy: %v", err)
	}
	if n := len(ts.Purchases()); n != 0 {
		t.Fatalf("%d purchases", n)
	}
}

// TestDeletes: each delete is retried after a 429 and a 404 means done already.
func TestDeletes(t *testing.T) {
	t.Parallel()
	ts, c := start(t)
	ctx := context.Background()
	n, err := c.BuyNumber(ctx, "+14155550142", "")
	if err != nil {
		t.Fatal(err)
	}
	tk, err := c.CreateTrunk(ctx, "T", "del.pstn.twilio.com")
	if err != nil {
		t.Fatal(err)
	}
	ou, err := c.CreateOriginationURL(ctx, tk.Sid, twilio.OriginationURL{FriendlyName: "R", SipURL: "sip:sip.retellai.com", Weight: 1, Priority: 1, Enabled: true})
	if err != nil {
		t.Fatal(err)
	}
	cl, err := c.CreateCredentialList(ctx, "L")
	if err != nil {
		t.Fatal(err)
	}
	if err := c.AttachCredentialList(ctx, tk.Sid, cl); err != nil {
		t.Fatal(err)
	}
	if err := c.AttachPhoneNumber(ctx, tk.Sid, n.Sid); err != nil {
		t.Fatal(err)
	}
	for _, op := range []twiliosim.Op{twiliosim.OpDetachPhoneNumber, twiliosim.OpDetachCredList, twiliosim.OpDeleteCredList,
		twiliosim.OpDeleteOrigination, twiliosim.OpDeleteTrunk, twiliosim.OpReleaseNumber} {
		ts.Throttle(op, 1, "0")
	}
	steps := []func() error{
		func() error { return c.DetachPhoneNumber(ctx, tk.Sid, n.Sid) },
		func() error { return c.DetachCredentialList(ctx, tk.Sid, cl) },
		func() error { return c.DeleteCredentialList(ctx, cl) },
		func() error { return c.DeleteOriginationURL(ctx, tk.Sid, ou.Sid) },
		func() error { return c.DeleteTrunk(ctx, tk.Sid) },
		func() error { return c.ReleaseNumber(ctx, n.Sid) },
	}
	for i, step := range steps {
		if err := step(); err != nil {
			t.Fatalf("step %d: %v", i, err)
		}
		if has, err := c.TrunkHasPhoneNumber(ctx, tk.Sid, n.Sid); i == 0 && (has || err != nil) {
			t.Fatalf("still on the trunk: %v %v", has, err)
		}
	}
	if len(ts.Trunks()) != 0 || len(ts.CredentialLists()) != 0 || ts.Owns(sid, n.PhoneNumber) {
		t.Fatalf("left: %+v %+v", ts.Trunks(), ts.CredentialLists())
	}
	if r := ts.Released(); len(r) != 1 || r[0].Sid != n.Sid {
		t.Fatalf("released: %+v", r)
	}
	// Again: everything is gone already, which is no error.
	for i, step := range steps {
		if err := step(); err != nil {
			t.Fatalf("again, step %d: %v", i, err)
		}
	}
	// A refusal that is not "gone" is answered.
	n2, _ := c.BuyNumber(ctx, "+14155550143", "")
	ts.FailNext(twiliosim.OpReleaseNumber, http.StatusBadRequest, 21606, "The number cannot be released yet")
	if err := c.ReleaseNumber(ctx, n2.Sid); twilio.CodeOf(err) != 21606 {
		t.Fatalf("refused release: %v", err)
	}
}
