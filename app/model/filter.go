package model

import (
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// ContactFilter selects contacts. It lives in the list's URL (so a filtered view can be
// shared and reloaded) and, as JSON, in saved segments.
type ContactFilter struct {
	Query       string     `json:"q,omitempty"`         // name, phone or email contains
	TagIDs      []int64    `json:"tags,omitempty"`      // has every one of these tags
	Owner       string     `json:"owner,omitempty"`     // a user id, "none" for unassigned
	OptedOut    string     `json:"opted_out,omitempty"` // "any", "none", or a channel kind
	CreatedFrom *time.Time `json:"created_from,omitempty"`
	CreatedTo   *time.Time `json:"created_to,omitempty"`   // inclusive day
	ActiveSince *time.Time `json:"active_since,omitempty"` // last activity on or after
	ActiveUntil *time.Time `json:"active_until,omitempty"` // last activity before (inactive since)
	StageIDs    []int64    `json:"stages,omitempty"`       // has a lead in one of these stages
	Attrs       []AttrCond `json:"attrs,omitempty"`
}

// AttrCond compares a custom field: eq, ne, contains, gt, lt (numbers and dates), set, unset.
type AttrCond struct {
	Key   string `json:"key"`
	Op    string `json:"op"`
	Value string `json:"value,omitempty"`
}

// ContactSort orders the list: created (default), name, activity; Desc reverses it.
type ContactSort struct {
	By   string
	Desc bool
}

// ContactSorts are the contact list's orders by their ?sort= value; the first is the default.
var ContactSorts = []struct {
	Value string
	Sort  ContactSort
}{
	{"newest", ContactSort{By: "created", Desc: true}},
	{"oldest", ContactSort{By: "created"}},
	{"name", ContactSort{By: "name"}},
	{"name_desc", ContactSort{By: "name", Desc: true}},
	{"activity", ContactSort{By: "activity", Desc: true}},
}

// ParseContactSort reads ?sort=: newest (the default and what anything unknown gives),
// oldest, name, name_desc, activity.
func ParseContactSort(s string) ContactSort {
	for _, c := range ContactSorts {
		if c.Value == s {
			return c.Sort
		}
	}
	return ContactSorts[0].Sort
}

// Value is the ?sort= of s, the inverse of ParseContactSort; the zero sort is newest.
func (s ContactSort) Value() string {
	for _, c := range ContactSorts {
		if c.Sort == s {
			return c.Value
		}
	}
	return ContactSorts[0].Value
}

const dateLayout = "2006-01-02"

var attrKey = regexp.MustCompile(`^[a-z][a-z0-9_]{0,39}$`)

// attrOps are the comparisons a custom field condition may use.
var attrOps = map[string]bool{"eq": true, "ne": true, "contains": true, "gt": true, "lt": true, "set": true, "unset": true}

// ParseContactFilter reads a filter from URL query values. Values it cannot read are
// reported as field errors (i18n keys), so the page can say what is wrong.
func ParseContactFilter(q url.Values) (ContactFilter, error) {
	f := ContactFilter{Query: CleanSearch(q.Get("q")), Owner: q.Get("owner"), OptedOut: q.Get("opted_out")}
	v := NewValidationError()
	for _, s := range q["tag"] {
		id, err := strconv.ParseInt(s, 10, 64)
		if err != nil || id <= 0 {
			v.Add("tag", "contacts.error.filter")
			continue
		}
		f.TagIDs = append(f.TagIDs, id)
	}
	for _, s := range q["stage"] {
		id, err := strconv.ParseInt(s, 10, 64)
		if err != nil || id <= 0 {
			v.Add("stage", "contacts.error.filter")
			continue
		}
		f.StageIDs = append(f.StageIDs, id)
	}
	if f.Owner != "" && f.Owner != "none" && f.Owner != "me" {
		if id, err := strconv.ParseInt(f.Owner, 10, 64); err != nil || id <= 0 {
			v.Add("owner", "contacts.error.filter")
		}
	}
	switch f.OptedOut {
	case "", "any", "none", ChannelWhatsApp, ChannelSMS, ChannelVoice:
	default:
		v.Add("opted_out", "contacts.error.filter")
	}
	for name, dst := range map[string]**time.Time{"created_from": &f.CreatedFrom, "created_to": &f.CreatedTo, "active_since": &f.ActiveSince, "active_until": &f.ActiveUntil} {
		if s := q.Get(name); s != "" {
			t, err := time.Parse(dateLayout, s)
			if err != nil {
				v.Add(name, "contacts.error.date")
				continue
			}
			*dst = &t
		}
	}
	// Custom field conditions: the filter bar's one row (attr_key, attr_op, attr_value) and
	// any more as attr=key:op:value.
	conds := q["attr"]
	if k := q.Get("attr_key"); k != "" {
		conds = append([]string{k + ":" + q.Get("attr_op") + ":" + q.Get("attr_value")}, conds...)
	}
	for _, s := range conds {
		key, rest, _ := strings.Cut(s, ":")
		op, value, _ := strings.Cut(rest, ":")
		if !attrKey.MatchString(key) || !attrOps[op] || (value == "" && op != "set" && op != "unset") {
			v.Add("attr", "contacts.error.filter")
			continue
		}
		f.Attrs = append(f.Attrs, AttrCond{Key: key, Op: op, Value: value})
	}
	return f, v.Err()
}

// Values writes the filter back as URL query values, the inverse of ParseContactFilter.
func (f ContactFilter) Values() url.Values {
	q := url.Values{}
	set := func(k, v string) {
		if v != "" {
			q.Set(k, v)
		}
	}
	set("q", f.Query)
	set("owner", f.Owner)
	set("opted_out", f.OptedOut)
	for _, id := range f.TagIDs {
		q.Add("tag", strconv.FormatInt(id, 10))
	}
	for _, id := range f.StageIDs {
		q.Add("stage", strconv.FormatInt(id, 10))
	}
	for i, a := range f.Attrs {
		if i == 0 {
			q.Set("attr_key", a.Key)
			q.Set("attr_op", a.Op)
			set("attr_value", a.Value)
			continue
		}
		q.Add("attr", a.Key+":"+a.Op+":"+a.Value)
	}
	for name, t := range map[string]*time.Time{"created_from": f.CreatedFrom, "created_to": f.CreatedTo, "active_since": f.ActiveSince, "active_until": f.ActiveUntil} {
		if t != nil {
			q.Set(name, t.Format(dateLayout))
		}
	}
	return q
}

// Empty tells whether the filter selects every contact.
func (f ContactFilter) Empty() bool { return len(f.Values()) == 0 }
