package metasim_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"sync"
	"testing"
	"time"

	"masteria/app/sim/metasim"
)

func templateBody(to, name, ref string) map[string]any {
	b := map[string]any{
		"messaging_product": "whatsapp", "recipient_type": "individual", "to": to, "type": "template",
		"template": map[string]any{"name": name, "language": map[string]any{"code": "pt_BR"}},
	}
	if ref != "" {
		b["biz_opaque_callback_data"] = ref
	}
	return b
}

func addPromo(s *metasim.Server) {
	s.AddTemplate(wabaID, metasim.Template{Name: "promo", Language: "pt_BR", Category: metasim.CategoryMarketing,
		Components: []map[string]any{{"type": "BODY", "text": "Oferta!"}}})
}

func TestPairRate(t *testing.T) {
	clk := newClock()
	s, base, _ := newSim(t, metasim.WithClock(clk.Now), metasim.WithPairRate(2, 6*time.Second))
	s.SetAutoStatuses()
	openWindow(t, s)
	url := base + "/v21.0/" + phoneID + "/messages"
	for i := range 2 {
		if a := call(t, "POST", url, token, textBody(customer, "x")); a.status != http.StatusOK {
			t.Fatalf("send %d: %d %v", i, a.status, a.body)
		}
	}
	wantError(t, call(t, "POST", url, token, textBody(customer, "x")), http.StatusTooManyRequests, 131056)
	// Another user of the same number is not held back.
	s.SetLastInbound(phoneID, "5511988887777", clk.Now())
	if a := call(t, "POST", url, token, textBody("5511988887777", "x")); a.status != http.StatusOK {
		t.Fatalf("other user: %d %v", a.status, a.body)
	}
	clk.Add(6 * time.Second)
	if a := call(t, "POST", url, token, textBody(customer, "x")); a.status != http.StatusOK {
		t.Fatalf("after the window: %d %v", a.status, a.body)
	}
	if got := s.SentTo("+55 11 99999-0000"); got != 3 {
		t.Errorf("SentTo = %d, want 3", got)
	}
	if got := s.SentCount(); got != 4 {
		t.Errorf("SentCount = %d, want 4", got)
	}
}

func TestSyncRefusals(t *testing.T) {
	s, base, _ := newSim(t)
	s.SetAutoStatuses()
	openWindow(t, s)
	url := base + "/v21.0/" + phoneID + "/messages"
	for code, status := range map[int]int{131048: 400, 368: 403, 131031: 403, 4: 429, 80007: 429} {
		s.SetFailNext(code, "")
		e := wantError(t, call(t, "POST", url, token, textBody(customer, "x")), status, code)
		if e["message"] == fmt.Sprintf("(#%d) Unknown error", code) {
			t.Errorf("%d has no title", code)
		}
	}
	if s.SentCount() != 0 {
		t.Errorf("refused sends were recorded")
	}
}

func TestFailNextHTTP(t *testing.T) {
	s, base, _ := newSim(t)
	s.SetAutoStatuses()
	openWindow(t, s)
	url := base + "/v21.0/" + phoneID + "/messages"
	s.SetFailNextHTTP(http.StatusTooManyRequests, 2)
	wantError(t, call(t, "POST", url, token, textBody(customer, "x")), 429, 130429)
	wantError(t, call(t, "POST", url, token, textBody(customer, "x")), 429, 130429)
	for status, code := range map[int]int{503: 2, 500: 1, 502: 1} {
		s.SetFailNextHTTP(status, 1)
		if e := wantError(t, call(t, "POST", url, token, textBody(customer, "x")), status, code); e["is_transient"] != true {
			t.Errorf("%d: not transient: %v", status, e)
		}
	}
	if a := call(t, "POST", url, token, textBody(customer, "x")); a.status != http.StatusOK || s.SentCount() != 1 {
		t.Fatalf("after the failures: %d %v (%d sent)", a.status, a.body, s.SentCount())
	}
}

func TestHangNext(t *testing.T) {
	s, base, app := newSim(t)
	s.SetAutoStatuses(metasim.StatusSent)
	addPromo(s)
	url := base + "/v21.0/" + phoneID + "/messages"
	client := &http.Client{Timeout: 100 * time.Millisecond}
	post := func(ref string) error {
		b, _ := json.Marshal(templateBody(customer, "promo", ref))
		req, _ := http.NewRequest("POST", url, bytesReader(b))
		req.Header.Set("Authorization", "Bearer "+token)
		req.Header.Set("Content-Type", "application/json")
		resp, err := client.Do(req)
		if err == nil {
			resp.Body.Close()
		}
		return err
	}

	// Not accepted: the client times out and nothing is sent.
	s.SetHangNext(2*time.Second, false)
	if err := post("m1"); err == nil {
		t.Fatal("no timeout")
	}
	// Accepted: the client times out, yet the message went and its status names it.
	s.SetHangNext(2*time.Second, true)
	if err := post("m2"); err == nil {
		t.Fatal("no timeout")
	}
	st := statusesOf(t, app.wait(t, 1))
	if len(st) != 1 || st[0].Status != "sent" || st[0].BizOpaqueCallbackData != "m2" {
		t.Fatalf("statuses %+v", st)
	}
	if s.SentCount() != 1 || s.SentTo(customer) != 1 {
		t.Fatalf("%d sends", s.SentCount())
	}
}

func TestFailDeliveryFor(t *testing.T) {
	s, base, app := newSim(t)
	s.SetAutoStatuses(metasim.StatusSent, metasim.StatusDelivered)
	addPromo(s)
	url := base + "/v21.0/" + phoneID + "/messages"
	s.SetFailDeliveryFor("+"+customer, 131049, "")
	if a := call(t, "POST", url, token, templateBody(customer, "promo", "m7")); a.status != http.StatusOK {
		t.Fatalf("%d %v", a.status, a.body)
	}
	st := statusesOf(t, app.wait(t, 2))
	if st[1].Status != "failed" || st[1].Errors[0].Code != 131049 || st[1].BizOpaqueCallbackData != "m7" {
		t.Fatalf("statuses %+v", st)
	}
	// Once: the next one is delivered.
	if err := s.WaitDeliveries(context.Background()); err != nil {
		t.Fatal(err)
	}
	call(t, "POST", url, token, templateBody(customer, "promo", "m8"))
	st = statusesOf(t, app.wait(t, 4)[2:])
	if st[1].Status != "delivered" || st[1].BizOpaqueCallbackData != "m8" {
		t.Fatalf("statuses %+v", st)
	}
}

func TestMessagingLimit(t *testing.T) {
	clk := newClock()
	s, base, _ := newSim(t, metasim.WithClock(clk.Now))
	s.SetAutoStatuses()
	addPromo(s)
	s.SetMessagingLimit(wabaID, 2)
	url := base + "/v21.0/" + phoneID + "/messages"
	users := []string{"5511900000001", "5511900000002", "5511900000003"}
	for _, u := range users[:2] {
		if a := call(t, "POST", url, token, templateBody(u, "promo", "")); a.status != http.StatusOK {
			t.Fatalf("%s: %d %v", u, a.status, a.body)
		}
	}
	// A user already reached costs nothing more; a new one is past the limit.
	if a := call(t, "POST", url, token, templateBody(users[0], "promo", "")); a.status != http.StatusOK {
		t.Fatalf("again: %d %v", a.status, a.body)
	}
	wantError(t, call(t, "POST", url, token, templateBody(users[2], "promo", "")), 400, metasim.DefaultLimitErrorCode)
	// A user whose service window is open is not business-initiated.
	s.SetLastInbound(phoneID, users[2], clk.Now())
	if a := call(t, "POST", url, token, templateBody(users[2], "promo", "")); a.status != http.StatusOK {
		t.Fatalf("in window: %d %v", a.status, a.body)
	}
	if got := s.Reached(wabaID); got != 2 {
		t.Errorf("reached %d", got)
	}
	a := call(t, "GET", base+"/v21.0/"+phoneID+"?fields=whatsapp_business_manager_messaging_limit,throughput,quality_rating", token, nil)
	if a.body["whatsapp_business_manager_messaging_limit"] != float64(2) {
		t.Errorf("node %v", a.body)
	}
	// The moving 24 hours.
	clk.Add(24 * time.Hour)
	if a := call(t, "POST", url, token, templateBody("5511900000004", "promo", "")); a.status != http.StatusOK {
		t.Fatalf("next day: %d %v", a.status, a.body)
	}
}

func TestMessagingLimitAsync(t *testing.T) {
	s, base, app := newSim(t, metasim.WithMessagingLimitError(131049, true))
	s.SetAutoStatuses(metasim.StatusSent)
	addPromo(s)
	s.SetMessagingLimit(wabaID, 0)
	if a := call(t, "POST", base+"/v21.0/"+phoneID+"/messages", token, templateBody(customer, "promo", "m1")); a.status != http.StatusOK {
		t.Fatalf("%d %v", a.status, a.body)
	}
	st := statusesOf(t, app.wait(t, 2))
	if st[1].Status != "failed" || st[1].Errors[0].Code != 131049 {
		t.Fatalf("statuses %+v", st)
	}
}

func TestPhoneNumberLimits(t *testing.T) {
	s, base, _ := newSim(t)
	u := base + "/v21.0/" + phoneID + "?fields=whatsapp_business_manager_messaging_limit,throughput,quality_rating"
	a := call(t, "GET", u, token, nil)
	if a.body["whatsapp_business_manager_messaging_limit"] != float64(-1) || a.body["quality_rating"] != "GREEN" ||
		a.body["throughput"].(map[string]any)["level"] != "STANDARD" {
		t.Fatalf("defaults %v", a.body)
	}
	s.SetQuality(phoneID, "YELLOW")
	s.SetThroughput(phoneID, "HIGH")
	s.SetMessagingLimit(wabaID, 10000)
	a = call(t, "GET", u, token, nil)
	if a.body["whatsapp_business_manager_messaging_limit"] != float64(10000) || a.body["quality_rating"] != "YELLOW" ||
		a.body["throughput"].(map[string]any)["level"] != "HIGH" {
		t.Fatalf("set %v", a.body)
	}
}

type accountValue struct {
	Object string `json:"object"`
	Entry  []struct {
		ID      string `json:"id"`
		Time    int64  `json:"time"`
		Changes []struct {
			Field string         `json:"field"`
			Value map[string]any `json:"value"`
		} `json:"changes"`
	} `json:"entry"`
}

func decodeAccount(t *testing.T, body []byte) (string, map[string]any) {
	t.Helper()
	var e accountValue
	if err := json.Unmarshal(body, &e); err != nil || e.Object != "whatsapp_business_account" || len(e.Entry) != 1 ||
		e.Entry[0].ID != wabaID || e.Entry[0].Time == 0 || len(e.Entry[0].Changes) != 1 {
		t.Fatalf("envelope %s: %v", body, err)
	}
	return e.Entry[0].Changes[0].Field, e.Entry[0].Changes[0].Value
}

func TestAccountWebhooks(t *testing.T) {
	s, base, app := newSim(t)
	s.SetAutoStatuses()
	addPromo(s)
	ctx := context.Background()
	url := base + "/v21.0/" + phoneID + "/messages"

	for i, step := range []struct {
		event, title string
		code         int
	}{{"PAUSED", "FIRST_PAUSE", 132015}, {"APPROVED", "", 0}, {"PAUSED", "SECOND_PAUSE", 132015}, {"DISABLED", "DISABLED", 132016}, {"APPROVED", "", 0}} {
		if code, err := s.TemplateStatus(ctx, phoneID, "promo", "pt_BR", step.event, ""); err != nil || code != 200 {
			t.Fatalf("%s: %d %v", step.event, code, err)
		}
		field, v := decodeAccount(t, app.wait(t, i+1)[i])
		if field != "message_template_status_update" || v["event"] != step.event || v["message_template_name"] != "promo" ||
			v["message_template_language"] != "pt_BR" || v["reason"] != "NONE" {
			t.Fatalf("%s: %s %v", step.event, field, v)
		}
		if _, ok := v["message_template_id"].(float64); !ok {
			t.Errorf("template id is not a number: %v", v["message_template_id"])
		}
		if step.title != "" && v["other_info"].(map[string]any)["title"] != step.title {
			t.Errorf("%s: other_info %v", step.event, v["other_info"])
		}
		a := call(t, "POST", url, token, templateBody(customer, "promo", ""))
		if step.code != 0 {
			wantError(t, a, 400, step.code)
		} else if a.status != 200 {
			t.Fatalf("%s: send %d %v", step.event, a.status, a.body)
		}
	}

	if code, err := s.NumberQuality(ctx, phoneID, "UPGRADE", "TIER_10K"); err != nil || code != 200 {
		t.Fatal(code, err)
	}
	field, v := decodeAccount(t, app.wait(t, 6)[5])
	if field != "phone_number_quality_update" || v["event"] != "UPGRADE" || v["current_limit"] != "TIER_10K" ||
		v["max_daily_conversations_per_business"] != float64(10000) || v["old_limit"] != "TIER_UNLIMITED" || v["display_phone_number"] != "15550783881" {
		t.Fatalf("%s %v", field, v)
	}
	if code, err := s.Capability(ctx, phoneID, 2000); err != nil || code != 200 {
		t.Fatal(code, err)
	}
	field, v = decodeAccount(t, app.wait(t, 7)[6])
	if field != "business_capability_update" || v["max_daily_conversations_per_business"] != float64(2000) {
		t.Fatalf("%s %v", field, v)
	}
	a := call(t, "GET", base+"/v21.0/"+phoneID+"?fields=whatsapp_business_manager_messaging_limit", token, nil)
	if a.body["whatsapp_business_manager_messaging_limit"] != float64(2000) {
		t.Errorf("node %v", a.body)
	}
	if code, err := s.TemplateQuality(ctx, phoneID, "promo", "pt_BR", "GREEN", "YELLOW"); err != nil || code != 200 {
		t.Fatal(code, err)
	}
	field, v = decodeAccount(t, app.wait(t, 8)[7])
	if field != "message_template_quality_update" || v["new_quality_score"] != "YELLOW" {
		t.Fatalf("%s %v", field, v)
	}
	if _, rejected := app.count(); rejected != 0 {
		t.Errorf("%d webhooks rejected", rejected)
	}
}

// TestManySends drives the send path with statuses on from many goroutines: every send is
// answered and every status posted by the bounded pool.
func TestManySends(t *testing.T) {
	s, base, app := newSim(t, metasim.WithStatusWorkers(4))
	s.SetAutoStatuses(metasim.StatusSent)
	addPromo(s)
	url := base + "/v21.0/" + phoneID + "/messages"
	const n = 200
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if a := call(t, "POST", url, token, templateBody(fmt.Sprintf("55119%08d", i), "promo", fmt.Sprint("m", i))); a.status != 200 {
				t.Errorf("%d %v", a.status, a.body)
			}
		}()
	}
	wg.Wait()
	if err := s.WaitDeliveries(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got, _ := app.count(); got != n || s.SentCount() != n {
		t.Fatalf("%d webhooks, %d sends", got, s.SentCount())
	}
}

func bytesReader(b []byte) *bytes.Reader { return bytes.NewReader(b) }
