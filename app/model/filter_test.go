package model

import (
	"net/url"
	"reflect"
	"testing"
)

func TestContactFilterRoundTripsThroughTheURL(t *testing.T) {
	q, _ := url.ParseQuery("q=ana&tag=3&tag=5&owner=me&opted_out=sms&created_from=2026-01-01&created_to=2026-01-31" +
		"&active_until=2026-06-01&stage=9&attr_key=plano&attr_op=eq&attr_value=Pro&attr=pontos:gt:10")
	f, err := ParseContactFilter(q)
	if err != nil {
		t.Fatal(err)
	}
	if len(f.TagIDs) != 2 || f.Owner != "me" || f.OptedOut != "sms" || f.CreatedFrom == nil || f.ActiveUntil == nil || len(f.StageIDs) != 1 ||
		!reflect.DeepEqual(f.Attrs, []AttrCond{{"plano", "eq", "Pro"}, {"pontos", "gt", "10"}}) {
		t.Fatalf("%+v", f)
	}
	again, err := ParseContactFilter(f.Values())
	if err != nil || !reflect.DeepEqual(again, f) {
		t.Fatalf("round trip: %+v %v", again, err)
	}
	if (ContactFilter{}).Empty() != true || f.Empty() {
		t.Fatal("Empty is wrong")
	}
}

func TestContactFilterBadValues(t *testing.T) {
	for _, raw := range []string{"tag=abc", "owner=x1", "opted_out=fax", "created_from=31/12/2026", "stage=-1",
		"attr_key=Plano&attr_op=eq&attr_value=x", "attr_key=plano&attr_op=like&attr_value=x", "attr=plano:eq:"} {
		q, _ := url.ParseQuery(raw)
		if _, err := ParseContactFilter(q); err == nil {
			t.Errorf("%s: accepted", raw)
		}
	}
}
