package inbox

import (
	"context"
	"errors"
	"regexp"
	"strings"

	"masteria/app/model"
	"masteria/app/store"
)

var shortcutRe = regexp.MustCompile(`^[a-z0-9_-]{1,32}$`)

// QuickReplyInput is a quick reply as the settings form sends it.
type QuickReplyInput struct {
	Shortcut, Title, Body string
}

// clean normalises the input and checks every field: the shortcut lower-cased without a
// leading "/", the title's spaces collapsed, the body trimmed.
func (in QuickReplyInput) clean() (QuickReplyInput, error) {
	in.Shortcut = strings.ToLower(strings.TrimPrefix(strings.TrimSpace(in.Shortcut), "/"))
	in.Title = strings.Join(strings.Fields(in.Title), " ")
	in.Body = strings.TrimSpace(in.Body)
	v := model.NewValidationError()
	if !shortcutRe.MatchString(in.Shortcut) {
		v.Add("shortcut", "quick_replies.error.shortcut")
	}
	if in.Title == "" || len([]rune(in.Title)) > 80 {
		v.Add("title", "quick_replies.error.title")
	}
	if in.Body == "" || len([]rune(in.Body)) > 4096 {
		v.Add("body", "quick_replies.error.body")
	}
	return in, v.Err()
}

// QuickReplies lists the org's quick replies.
func (s *Service) QuickReplies(ctx context.Context, orgID int64) ([]model.QuickReply, error) {
	return s.st.QuickReplies(ctx, orgID)
}

// QuickReply returns one quick reply of the org.
func (s *Service) QuickReply(ctx context.Context, orgID, id int64) (model.QuickReply, error) {
	return s.st.QuickReply(ctx, orgID, id)
}

// CreateQuickReply stores a quick reply; admins and owners only.
func (s *Service) CreateQuickReply(ctx context.Context, a model.Actor, in QuickReplyInput) (model.QuickReply, error) {
	if !a.Role.AtLeast(model.RoleAdmin) {
		return model.QuickReply{}, model.ErrForbidden
	}
	in, err := in.clean()
	if err != nil {
		return model.QuickReply{}, err
	}
	q, err := s.st.CreateQuickReply(ctx, model.QuickReply{OrgID: a.OrgID, Shortcut: in.Shortcut, Title: in.Title, Body: in.Body, CreatedBy: a.UserRef()})
	if errors.Is(err, model.ErrConflict) {
		return q, model.FieldError("shortcut", "quick_replies.error.taken")
	}
	return q, err
}

// UpdateQuickReply changes a quick reply of the org; admins and owners only.
func (s *Service) UpdateQuickReply(ctx context.Context, a model.Actor, id int64, in QuickReplyInput) (model.QuickReply, error) {
	if !a.Role.AtLeast(model.RoleAdmin) {
		return model.QuickReply{}, model.ErrForbidden
	}
	in, err := in.clean()
	if err != nil {
		return model.QuickReply{}, err
	}
	q, err := s.st.UpdateQuickReply(ctx, model.QuickReply{OrgID: a.OrgID, ID: id, Shortcut: in.Shortcut, Title: in.Title, Body: in.Body})
	if errors.Is(err, model.ErrConflict) {
		return q, model.FieldError("shortcut", "quick_replies.error.taken")
	}
	return q, err
}

// DeleteQuickReply removes a quick reply of the org; admins and owners only.
func (s *Service) DeleteQuickReply(ctx context.Context, a model.Actor, id int64) error {
	if !a.Role.AtLeast(model.RoleAdmin) {
		return model.ErrForbidden
	}
	return s.st.Tx(ctx, func(tx *store.Store) error { return tx.DeleteQuickReply(ctx, a.OrgID, id) })
}

// QuickRepliesFor lists the quick replies whose shortcut or a word of whose title starts
// with prefix (accents and case aside), as they would be inserted in a conversation the actor
// may see: {{nome}} and {{name}} become the contact's first name.
func (s *Service) QuickRepliesFor(ctx context.Context, a model.Actor, conversationID int64, prefix string) ([]model.QuickReply, error) {
	c, err := s.Open(ctx, a, conversationID)
	if err != nil {
		return nil, err
	}
	prefix = model.CleanSearch(strings.TrimPrefix(strings.TrimSpace(prefix), "/"))
	if len(prefix) > 32 {
		return []model.QuickReply{}, nil
	}
	qs, err := s.st.QuickRepliesPrefix(ctx, a.OrgID, prefix, 8)
	if err != nil {
		return nil, err
	}
	for i := range qs {
		qs[i].Body = FillReply(qs[i].Body, c.ContactName)
	}
	return qs, nil
}

var placeholder = regexp.MustCompile(`(\s?)\{\{\s*(?i:nome|name)\s*\}\}`)

// FillReply puts the contact's first name where a quick reply says {{nome}} or {{name}};
// with no name known the placeholder goes, with the space before it ("Olá {{nome}}," →
// "Olá,").
func FillReply(body, contactName string) string {
	first := ""
	if f := strings.Fields(contactName); len(f) > 0 {
		first = f[0]
	}
	return placeholder.ReplaceAllStringFunc(body, func(m string) string {
		if first == "" {
			return ""
		}
		sp := placeholder.FindStringSubmatch(m)[1]
		return sp + first
	})
}
