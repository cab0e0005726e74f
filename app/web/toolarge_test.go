package web_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

type zeros struct{}

func (zeros) Read(p []byte) (int, error) {
	clear(p)
	return len(p), nil
}

// A form over its route's size says so (413, "Too large"), in the page a plain browser
// post gets, rather than "the form expired": the composer's 100 MB attachment limit (its
// CSRF field is never reached) and the 2 MB of every other form. Nothing is stored.
func TestTooLargeFormsSaySo(t *testing.T) {
	t.Parallel()
	o := newInboxOrg(t)
	r := o.receive("+5511987650321", "Rosa", "Oi")
	path := fmt.Sprintf("%s/inbox/%d/messages", o.home, r.ConversationID)

	const boundary = "masteriaboundary"
	head := "--" + boundary + "\r\nContent-Disposition: form-data; name=\"_csrf\"\r\n\r\n" + o.owner.CSRF() + "\r\n" +
		"--" + boundary + "\r\nContent-Disposition: form-data; name=\"file\"; filename=\"video.mp4\"\r\nContent-Type: video/mp4\r\n\r\n"
	tail := "\r\n--" + boundary + "--\r\n"
	body := io.MultiReader(strings.NewReader(head), io.LimitReader(zeros{}, 102<<20), strings.NewReader(tail))
	req, _ := http.NewRequest(http.MethodPost, o.owner.Base+path, body)
	req.Header.Set("Content-Type", "multipart/form-data; boundary="+boundary)
	res := o.owner.Do(req)
	if res.StatusCode != http.StatusRequestEntityTooLarge || !strings.Contains(res.Body, `data-testid="error-413"`) {
		t.Fatalf("a 102 MB attachment: %d %.300s", res.StatusCode, res.Body)
	}

	big := url.Values{"name": {strings.Repeat("a", 3<<20)}}
	if res := o.owner.Post(o.home+"/settings", big); res.StatusCode != http.StatusRequestEntityTooLarge || !strings.Contains(res.Body, `data-testid="error-413"`) {
		t.Fatalf("a 3 MB form: %d %.300s", res.StatusCode, res.Body)
	}
	var out int
	_ = o.inst.App.Store.DB().Get(&out, `SELECT count(*) FROM messages WHERE direction = 'out'`)
	if out != 0 {
		t.Fatalf("%d messages stored from refused posts", out)
	}
	// A form of a normal size with a wrong token is still refused as such.
	if res := o.owner.PostRaw(path, url.Values{"body": {"Olá"}, "_csrf": {"wrong"}}); res.StatusCode != http.StatusForbidden {
		t.Fatalf("wrong token: %d", res.StatusCode)
	}
}

// A body over the 2 MB limit sent chunked (no Content-Length) answers 413 like one that
// declares its length: a page's form and an API call alike.
func TestChunkedBodyOverLimit(t *testing.T) {
	t.Parallel()
	o := newInboxOrg(t)
	key, err := o.inst.App.Account.CreateAPIKeyForOrgName(context.Background(), o.name, "chunked")
	if err != nil {
		t.Fatal(err)
	}
	for _, chunked := range []bool{true, false} {
		form := "_csrf=" + o.owner.CSRF() + "&name=" + strings.Repeat("a", 3<<20)
		req, _ := http.NewRequest(http.MethodPost, o.owner.Base+o.home+"/settings", io.MultiReader(strings.NewReader(form)))
		if !chunked {
			req, _ = http.NewRequest(http.MethodPost, o.owner.Base+o.home+"/settings", strings.NewReader(form))
		}
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		if res := o.owner.Do(req); res.StatusCode != http.StatusRequestEntityTooLarge || !strings.Contains(res.Body, `data-testid="error-413"`) {
			t.Errorf("form, chunked %v: %d %.300s", chunked, res.StatusCode, res.Body)
		}

		body := `{"channel_id":1,"to":"+5511987654321","text":"` + strings.Repeat("a", 3<<20) + `"}`
		req, _ = http.NewRequest(http.MethodPost, o.owner.Base+"/api/v1/messages", io.MultiReader(strings.NewReader(body)))
		if !chunked {
			req, _ = http.NewRequest(http.MethodPost, o.owner.Base+"/api/v1/messages", strings.NewReader(body))
		}
		req.Header.Set("Authorization", "Bearer "+key)
		res := o.owner.Do(req)
		if res.StatusCode != http.StatusRequestEntityTooLarge || apiCode(t, res) != "too_large" {
			t.Errorf("API, chunked %v: %d %.300s", chunked, res.StatusCode, res.Body)
		}
		if chunked && req.ContentLength != 0 {
			t.Fatalf("the request declared its length: %d", req.ContentLength)
		}
	}
}
