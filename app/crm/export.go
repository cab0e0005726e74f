package crm

import (
	"context"
	"encoding/json"
	"io"
	"sort"
	"strings"

	"masteria/app/csvout"
	"masteria/app/model"
)

// Export writes every contact matching f as CSV to w, a page at a time, so an export of a
// million contacts streams without being held in memory. Columns: the fixed fields, then
// one per custom field.
func (s *Service) Export(ctx context.Context, a model.Actor, f model.ContactFilter, w io.Writer) error {
	tags, err := s.st.Tags(ctx, a.OrgID)
	if err != nil {
		return err
	}
	tagName := map[int64]string{}
	for _, t := range tags {
		tagName[t.ID] = t.Name
	}
	fields, err := s.st.Fields(ctx, a.OrgID)
	if err != nil {
		return err
	}
	cw, err := csvout.NewWriter(w, 0) // with the BOM Excel needs to read UTF-8
	if err != nil {
		return err
	}
	header := []string{"name", "phone", "email", "tags", "owner", "opted_out", "created_at", "last_activity_at"}
	for _, fd := range fields {
		header = append(header, fd.Key)
	}
	if err := cw.Write(header); err != nil {
		return err
	}
	row := make([]string, len(header))
	err = s.st.EachContact(ctx, a.OrgID, a.UserID, f, func(c model.Contact) error {
		names := make([]string, 0, len(c.TagIDs))
		for _, id := range c.TagIDs {
			names = append(names, tagName[id])
		}
		sort.Strings(names)
		row[0], row[1], row[2] = csvout.Safe(c.Name), deref(c.Phone), csvout.Safe(deref(c.Email))
		row[3], row[4] = csvout.Safe(strings.Join(names, ", ")), csvout.Safe(deref(c.OwnerName))
		row[5] = strings.Join(c.OptedOut, ", ")
		row[6], row[7] = c.CreatedAt.UTC().Format("2006-01-02T15:04:05Z"), c.LastActivityAt.UTC().Format("2006-01-02T15:04:05Z")
		var attrs map[string]any
		_ = json.Unmarshal(orEmpty(c.Attributes), &attrs)
		for i, fd := range fields {
			row[8+i] = ""
			if v, ok := attrs[fd.Key]; ok {
				b, _ := json.Marshal(v)
				row[8+i] = csvout.Safe(strings.Trim(string(b), `"`))
			}
		}
		if err := cw.Write(row); err != nil {
			return err
		}
		cw.Flush()
		return cw.Error()
	})
	if err != nil {
		return err
	}
	cw.Flush()
	return cw.Error()
}
