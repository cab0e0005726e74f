package metasim

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Account webhooks: what Meta posts about the account rather than about one message, with the
// WhatsApp Business Account's other webhook fields (webhooks reference pages
// message_template_status_update, message_template_quality_update,
// phone_number_quality_update and business_capability_update). They share the envelope of
// the messages field, with the entry's time in Unix seconds:
// {"object":"whatsapp_business_account","entry":[{"id":waba_id,"time":…,"changes":[{"value":…,"field":…}]}]}.

type accountEnvelope struct {
	Object string         `json:"object"`
	Entry  []accountEntry `json:"entry"`
}

type accountEntry struct {
	ID      string          `json:"id"`
	Time    int64           `json:"time"`
	Changes []accountChange `json:"changes"`
}

type accountChange struct {
	Value any    `json:"value"`
	Field string `json:"field"`
}

// BuildAccount builds a signed account webhook for the number's WABA with one change of
// field and value, without sending it.
func (s *Server) BuildAccount(phoneNumberID, field string, value any) (Webhook, error) {
	n, err := s.lookupNumber(phoneNumberID)
	if err != nil {
		return Webhook{}, err
	}
	body, err := json.Marshal(accountEnvelope{
		Object: "whatsapp_business_account",
		Entry:  []accountEntry{{ID: n.WABAID, Time: s.now().Unix(), Changes: []accountChange{{Value: value, Field: field}}}},
	})
	if err != nil {
		return Webhook{}, fmt.Errorf("metasim: encode webhook: %w", err)
	}
	h := make(http.Header)
	h.Set("Content-Type", "application/json")
	h.Set("User-Agent", "facebookexternalua")
	return Webhook{URL: n.WebhookURL, Body: body, Header: h}.signed(n.AppSecret), nil
}

func (s *Server) postAccount(ctx context.Context, phoneNumberID, field string, value any) (int, error) {
	w, err := s.BuildAccount(phoneNumberID, field, value)
	if err != nil {
		return 0, err
	}
	return s.Deliver(ctx, w)
}

// TemplateStatus changes a template of the number's WABA and posts the
// message_template_status_update webhook Meta sends for it: {event, message_template_id (a
// JSON number), message_template_name, message_template_language, reason ("NONE" when
// empty), message_template_category}, plus other_info {title, description} on PAUSED
// (FIRST_PAUSE, then SECOND_PAUSE) and DISABLED, disable_info {disable_date} on FLAGGED and
// rejection_info {reason, recommendation} on REJECTED. The template's own status follows the
// event, so later sends of a PAUSED template get 132015, of a DISABLED one 132016, and
// APPROVED (which is also how Meta ends a pause) makes it usable again; FLAGGED keeps it
// usable. A template the sim does not know is created with the event as its status.
func (s *Server) TemplateStatus(ctx context.Context, phoneNumberID, templateName, language, event, reason string) (int, error) {
	n, err := s.lookupNumber(phoneNumberID)
	if err != nil {
		return 0, err
	}
	if reason == "" {
		reason = "NONE"
	}
	s.mu.Lock()
	list := s.templates[n.WABAID]
	i := -1
	for j, t := range list {
		if t.Name == templateName && t.Language == language {
			i = j
			break
		}
	}
	if i < 0 {
		list = append(list, Template{ID: numericID(15), Name: templateName, Language: language, Status: TemplatePending, Category: CategoryMarketing})
		i = len(list) - 1
		s.templates[n.WABAID] = list
	}
	t := &list[i]
	if event != "FLAGGED" {
		t.Status = event
	}
	pauseKey := n.WABAID + "/" + templateName + "/" + language
	value := map[string]any{
		"event":                     event,
		"message_template_id":       json.Number(t.ID),
		"message_template_name":     templateName,
		"message_template_language": language,
		"reason":                    reason,
		"message_template_category": t.Category,
	}
	now := s.now()
	switch event {
	case TemplatePaused:
		s.tplPauses[pauseKey]++
		title, hours := "FIRST_PAUSE", 3
		if s.tplPauses[pauseKey] > 1 {
			title, hours = "SECOND_PAUSE", 6
		}
		value["other_info"] = map[string]string{"title": title,
			"description": fmt.Sprintf("Your WhatsApp message template has been paused for %d hours until %s due to low quality.",
				hours, now.Add(time.Duration(hours)*time.Hour).UTC().Format("Jan 2 at 3:04 PM UTC"))}
	case TemplateDisabled:
		value["other_info"] = map[string]string{"title": "DISABLED",
			"description": "Your WhatsApp message template has been disabled due to low quality."}
	case "FLAGGED":
		value["disable_info"] = map[string]any{"disable_date": now.Add(7 * 24 * time.Hour).Unix()}
	case TemplateRejected:
		if reason != "NONE" {
			value["rejection_info"] = map[string]string{"reason": reason, "recommendation": "Review the template guidelines and submit it again."}
		}
	case "DELETED":
		value["reason"] = nil
	}
	s.mu.Unlock()
	return s.postAccount(ctx, phoneNumberID, "message_template_status_update", value)
}

// TemplateQuality posts message_template_quality_update for a template of the number's WABA:
// {previous_quality_score, new_quality_score, message_template_id, message_template_name,
// message_template_language}; scores are GREEN, YELLOW, RED or UNKNOWN.
func (s *Server) TemplateQuality(ctx context.Context, phoneNumberID, templateName, language, previous, score string) (int, error) {
	n, err := s.lookupNumber(phoneNumberID)
	if err != nil {
		return 0, err
	}
	id := "0"
	s.mu.Lock()
	for _, t := range s.templates[n.WABAID] {
		if t.Name == templateName && t.Language == language {
			id = t.ID
		}
	}
	s.mu.Unlock()
	return s.postAccount(ctx, phoneNumberID, "message_template_quality_update", map[string]any{
		"previous_quality_score": previous, "new_quality_score": score,
		"message_template_id": json.Number(id), "message_template_name": templateName, "message_template_language": language,
	})
}

// tierLimit reads a messaging limit as Meta writes it in webhooks and on the phone number
// node: TIER_250, TIER_1K/TIER_2K (the 1K tier became 2,000), TIER_10K, TIER_100K,
// TIER_UNLIMITED (-1), or a number; ok is false for anything else.
func tierLimit(v string) (int, bool) {
	switch strings.ToUpper(strings.TrimSpace(v)) {
	case "TIER_50":
		return 50, true
	case "TIER_250":
		return 250, true
	case "TIER_1K", "TIER_2K":
		return 2000, true
	case "TIER_10K":
		return 10000, true
	case "TIER_100K":
		return 100000, true
	case "TIER_UNLIMITED", "UNLIMITED":
		return -1, true
	}
	n, err := strconv.Atoi(strings.TrimSpace(v))
	return n, err == nil
}

// NumberQuality posts phone_number_quality_update for the number: {display_phone_number,
// event (DOWNGRADE, FLAGGED, ONBOARDING, THROUGHPUT_UPGRADE, UNFLAGGED, UPGRADE),
// current_limit, max_daily_conversations_per_business}, with old_limit on UPGRADE and
// DOWNGRADE. When currentLimit names a limit (TIER_2K, 10000…) the WABA's messaging limit
// becomes it, as the node then shows.
func (s *Server) NumberQuality(ctx context.Context, phoneNumberID, event, currentLimit string) (int, error) {
	n, err := s.lookupNumber(phoneNumberID)
	if err != nil {
		return 0, err
	}
	value := map[string]any{"display_phone_number": digits(n.DisplayNumber), "event": event, "current_limit": currentLimit}
	s.mu.Lock()
	p := s.portfolioOf(n.WABAID)
	old := p.limit
	if limit, ok := tierLimit(currentLimit); ok {
		p.limit = limit
		value["max_daily_conversations_per_business"] = limit
	}
	s.mu.Unlock()
	if event == "UPGRADE" || event == "DOWNGRADE" {
		value["old_limit"] = tierName(old)
	}
	return s.postAccount(ctx, phoneNumberID, "phone_number_quality_update", value)
}

// tierName is the legacy tier string of a limit.
func tierName(limit int) string {
	switch {
	case limit < 0:
		return "TIER_UNLIMITED"
	case limit >= 100000:
		return "TIER_100K"
	case limit >= 10000:
		return "TIER_10K"
	case limit >= 2000:
		return "TIER_2K"
	}
	return "TIER_250"
}

// Capability posts business_capability_update for the number's WABA:
// {max_daily_conversation_per_phone, max_daily_conversations_per_business,
// max_phone_numbers_per_business, max_phone_numbers_per_waba}, the first two set to
// maxPerBusiness (-1 unlimited), and makes it the WABA's messaging limit.
func (s *Server) Capability(ctx context.Context, phoneNumberID string, maxPerBusiness int) (int, error) {
	n, err := s.lookupNumber(phoneNumberID)
	if err != nil {
		return 0, err
	}
	s.mu.Lock()
	s.portfolioOf(n.WABAID).limit = maxPerBusiness
	s.mu.Unlock()
	return s.postAccount(ctx, phoneNumberID, "business_capability_update", map[string]any{
		"max_daily_conversation_per_phone":     maxPerBusiness,
		"max_daily_conversations_per_business": maxPerBusiness,
		"max_phone_numbers_per_business":       2,
		"max_phone_numbers_per_waba":           25,
	})
}
