// Package bot answers customers in the conversations it owns, with a persona's words and
// what its knowledge bases hold, and hands the conversation to a person at the right time.
//
// The inbox tells the bot of each customer message (inbox.Bot) inside the transaction that
// stored it; the bot queues a reply job a short debounce later, so messages a customer sends
// in quick succession are answered once: a run answers only if its message is still the
// newest, and everything since the bot last read. Its answer is kept only if, when it is
// stored, nobody took the conversation and the customer wrote nothing newer (BotDone): a
// bot never answers while a person does, nor twice the same messages.
//
// Ownership changes only by explicit actions: the model's hand_over tool call (with its
// reason), a persona rule (keyword, maximum of turns, nothing found), a guard (budget,
// provider failure, automated sender, rate limit, closed 24-hour window), an agent's reply
// or take-over, a manager. A hand-over tells the customer in the persona's words (unless
// silent), assigns a person in turn when the org hands conversations out so, and leaves
// the reason and a summary for the agent.
package bot

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/riverqueue/river"

	"masteria/app/ai/kb"
	"masteria/app/ai/provider"
	"masteria/app/events"
	"masteria/app/inbox"
	"masteria/app/jobs"
	"masteria/app/model"
	"masteria/app/store"
)

// Options tune the bot; zero values take the defaults.
type Options struct {
	// Debounce is how long the bot waits after a customer's message for more (2 s).
	Debounce time.Duration
	// RateLimit is the most replies the bot gives a conversation in a minute (5): more is
	// a loop with another bot, and a person takes over.
	RateLimit int
	// History is how many earlier messages the model reads (20).
	History int
}

// Service is the bot.
type Service struct {
	st    *store.Store
	inbox *inbox.Service
	ai    *provider.Service
	kb    *kb.Service
	jobs  inbox.Inserter
	now   func() time.Time
	opts  Options
}

// New returns the bot over the inbox, the org's AI provider and its knowledge bases.
func New(st *store.Store, ib *inbox.Service, ai *provider.Service, kbs *kb.Service, opts Options) *Service {
	if opts.Debounce < 0 {
		opts.Debounce = 0
	} else if opts.Debounce == 0 {
		opts.Debounce = 2 * time.Second
	}
	if opts.RateLimit <= 0 {
		opts.RateLimit = 5
	}
	if opts.History <= 0 {
		opts.History = 20
	}
	return &Service{st: st, inbox: ib, ai: ai, kb: kbs, now: time.Now, opts: opts}
}

// NoDebounce is an Options.Debounce that answers at once (benchmarks, some tests).
const NoDebounce = -1

// SetJobs gives the bot the queue its replies go through (set once at start).
func (s *Service) SetJobs(j inbox.Inserter) { s.jobs = j }

// SetClock replaces the clock (tests).
func (s *Service) SetClock(now func() time.Time) { s.now = now }

var _ inbox.Bot = (*Service)(nil)

// Inbound queues the answer to a customer's message when the bot owns its conversation.
func (s *Service) Inbound(ctx context.Context, tx *store.Store, in inbox.BotInbound) error {
	if in.Owner != model.OwnerBot || s.jobs == nil {
		return nil
	}
	var opts *river.InsertOpts
	if s.opts.Debounce > 0 {
		opts = &river.InsertOpts{ScheduledAt: s.now().Add(s.opts.Debounce)}
	}
	_, err := s.jobs.InsertTx(ctx, tx.SQLTx(), ReplyArgs{OrgID: in.OrgID, ConversationID: in.ConversationID, MessageID: in.MessageID}, opts)
	return err
}

// ReplyArgs is the job that answers a conversation's newest customer message.
type ReplyArgs struct {
	OrgID          int64 `json:"org_id"`
	ConversationID int64 `json:"conversation_id"`
	MessageID      int64 `json:"message_id"`
}

// Kind names the job.
func (ReplyArgs) Kind() string { return "bot.reply" }

// InsertOpts: replies go to the bot's own quick queue, with few retries (a failing
// provider hands over rather than retries).
func (ReplyArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: jobs.QueueBot, MaxAttempts: 5}
}

// ReplyWorker runs ReplyArgs.
type ReplyWorker struct {
	river.WorkerDefaults[ReplyArgs]
	Service *Service
}

// Timeout bounds a run: retrieval and one model call (its own timeout is shorter).
func (w *ReplyWorker) Timeout(*river.Job[ReplyArgs]) time.Duration { return 2 * time.Minute }

// Work answers, or hands over.
func (w *ReplyWorker) Work(ctx context.Context, job *river.Job[ReplyArgs]) error {
	err := w.Service.Reply(ctx, job.Args)
	if errors.Is(err, model.ErrNotFound) {
		return nil // the conversation was deleted meanwhile
	}
	return err
}

// Register adds the bot's worker.
func Register(reg *jobs.Registry, s *Service) {
	river.AddWorker(reg.Workers, &ReplyWorker{Service: s})
}

// run is one answer in the making: the conversation and what the bot read of it.
type run struct {
	conv     model.Conversation
	ch       model.Channel
	persona  *model.Persona
	readFrom int64    // the conversation's bot_read_to when the run read it
	upTo     int64    // the newest customer message it answers
	texts    []string // what the customer wrote since the bot last read
}

// Reply answers a conversation's customer messages since the bot last read it, if the
// message of args is still the newest and the bot still owns the conversation.
func (s *Service) Reply(ctx context.Context, args ReplyArgs) error {
	conv, err := s.st.Conversation(ctx, args.OrgID, args.ConversationID)
	if err != nil {
		return err
	}
	if conv.Owner != model.OwnerBot {
		return nil
	}
	pending, err := s.st.BotPending(ctx, args.OrgID, conv.ID, conv.BotReadTo)
	if err != nil {
		return err
	}
	if len(pending) == 0 || pending[len(pending)-1].ID != args.MessageID {
		return nil // answered already, or a newer message's run answers them all
	}
	ch, err := s.st.Channel(ctx, args.OrgID, conv.ChannelID)
	if err != nil {
		return err
	}
	r := &run{conv: conv, ch: ch, readFrom: conv.BotReadTo, upTo: args.MessageID}
	for _, m := range pending {
		r.texts = append(r.texts, textOf(m))
	}
	id := conv.PersonaID
	if id == nil {
		id = ch.PersonaID
	}
	if id == nil {
		return s.handOver(ctx, r, Reason(ReasonNoPersona, ""), "", false)
	}
	p, err := s.st.Persona(ctx, args.OrgID, *id)
	if errors.Is(err, model.ErrNotFound) {
		return s.handOver(ctx, r, Reason(ReasonNoPersona, ""), "", false)
	}
	if err != nil {
		return err
	}
	r.persona = &p
	return s.answer(ctx, r)
}

// answer applies the persona's rules and the guards, then asks the model.
func (s *Service) answer(ctx context.Context, r *run) error {
	p, org, now := r.persona, r.conv.OrgID, s.now()
	question := strings.Join(r.texts, "\n")
	if k := keywordIn(question, p.HandoverKeywords); k != "" {
		return s.handOver(ctx, r, Reason(ReasonKeyword, k), "", true)
	}
	history, err := s.st.BotHistory(ctx, org, r.conv.ID, s.opts.History+len(r.texts))
	if err != nil {
		return err
	}
	var earlier []Turn
	var inbound []string
	for _, m := range history {
		if m.Direction == "in" {
			inbound = append(inbound, textOf(m))
		}
		if m.ID <= r.readFrom || (m.Direction == "out" && m.ID < r.upTo) {
			earlier = append(earlier, Turn{Customer: m.Direction == "in", Text: textOf(m)})
		}
	}
	if automated(r.texts) || repeated(inbound, 3) {
		return s.handOver(ctx, r, Reason(ReasonAutomated, ""), "", false)
	}
	if r.ch.ServiceWindow() && !r.conv.WindowOpen(now) {
		return s.handOver(ctx, r, Reason(ReasonWindow, ""), "", false)
	}
	if n, err := s.st.BotRepliesSince(ctx, org, r.conv.ID, now.Add(-time.Minute)); err != nil {
		return err
	} else if n >= s.opts.RateLimit {
		return s.handOver(ctx, r, Reason(ReasonRateLimit, ""), "", true)
	}
	if r.conv.BotTurns >= p.MaxTurns {
		return s.handOver(ctx, r, Reason(ReasonMaxTurns, fmt.Sprint(p.MaxTurns)), "", true)
	}
	if _, err := s.ai.Settings(ctx, org); errors.Is(err, model.ErrNotFound) {
		return s.handOver(ctx, r, Reason(ReasonNoProvider, ""), "", true)
	} else if err != nil {
		return err
	}
	if s.ai.OverBudget(ctx, org) {
		if err := s.budgetSpent(ctx, org); err != nil {
			slog.Warn("bot: tell managers the budget is spent", "org", org, "err", err)
		}
		return s.handOver(ctx, r, Reason(ReasonBudget, ""), "", true)
	}
	ans, err := s.Answer(ctx, org, *p, earlier, question)
	switch {
	case err != nil:
		return s.handOver(ctx, r, Reason(ReasonProvider, providerWords(err)), "", true)
	case ans.NothingFound && p.NothingFound == model.NothingFoundSilent:
		return s.handOver(ctx, r, Reason(ReasonNothingFound, ""), "", false)
	case ans.NothingFound:
		return s.handOverSaying(ctx, r, Reason(ReasonNothingFound, ""), "", wordsFor(p.Language).nothingFound)
	case ans.HandOver != nil:
		return s.handOver(ctx, r, Reason(ReasonTool, ans.HandOver.Reason), ans.HandOver.Summary, true)
	case ans.Text == "":
		return s.handOver(ctx, r, Reason(ReasonProvider, "empty answer"), "", true)
	}
	return s.st.Tx(ctx, func(tx *store.Store) error {
		ok, err := tx.BotDone(ctx, org, r.conv.ID, r.readFrom, r.upTo, model.OwnerBot, "", "", now)
		if err != nil || !ok {
			return err // moved meanwhile: the answer is dropped
		}
		id, err := s.inbox.QueueBotMessage(ctx, tx, org, r.conv.ID, r.ch.ID, ans.Text)
		if err != nil {
			return err
		}
		return tx.AddAIReply(ctx, org, r.conv.ID, model.AIReply{MessageID: id, PersonaID: &p.ID, Model: ans.Model,
			PromptTokens: ans.PromptTokens, CompletionTokens: ans.CompletionTokens, Cost: ans.Cost, Citations: ans.Citations})
	})
}

// handOver passes the conversation to a person; tell says whether the customer hears of it.
func (s *Service) handOver(ctx context.Context, r *run, reason, summary string, tell bool) error {
	return s.hand(ctx, r, reason, summary, "", tell)
}

// handOverSaying hands over after telling the customer first why (nothing found).
func (s *Service) handOverSaying(ctx context.Context, r *run, reason, summary, first string) error {
	return s.hand(ctx, r, reason, summary, first, true)
}

func (s *Service) hand(ctx context.Context, r *run, reason, summary, first string, tell bool) error {
	say := ""
	if tell {
		lang, custom, open := "pt-BR", "", true
		if p := r.persona; p != nil {
			lang, custom = p.Language, strings.TrimSpace(p.HandoverMessage)
			open = s.openNow(ctx, r.conv.OrgID, *p)
		}
		w := wordsFor(lang)
		words := w.handOver
		if custom != "" {
			words = custom
		}
		if !open {
			words += " " + w.afterHours
		}
		say = strings.TrimSpace(first + " " + words)
	}
	if strings.TrimSpace(summary) == "" {
		summary = "“" + truncate(strings.Join(r.texts, " / "), 400) + "”"
	}
	org, now := r.conv.OrgID, s.now()
	return s.st.Tx(ctx, func(tx *store.Store) error {
		ok, err := tx.BotDone(ctx, org, r.conv.ID, r.readFrom, r.upTo, model.OwnerWaiting, reason, truncate(summary, 1000), now)
		if err != nil || !ok {
			return err
		}
		if say != "" && !(r.ch.ServiceWindow() && !r.conv.WindowOpen(now)) {
			if _, err := s.inbox.QueueBotMessage(ctx, tx, org, r.conv.ID, r.ch.ID, say); err != nil {
				return err
			}
		}
		if err := s.inbox.AssignInTurn(ctx, tx, org, r.conv.ID); err != nil {
			return err
		}
		_, err = events.ConversationChanged.Publish(ctx, tx, org, events.ConversationChange{
			ConversationID: r.conv.ID, Change: "handed_over", Owner: model.OwnerWaiting, Reason: reason})
		return err
	})
}

// openNow tells whether the persona's business hours are on now, in the org's zone.
func (s *Service) openNow(ctx context.Context, orgID int64, p model.Persona) bool {
	h := hoursOf(p)
	if len(h) == 0 {
		return true
	}
	zone := model.DefaultTimeZone
	if z, err := s.st.OrgTimeZone(ctx, orgID); err == nil && z != "" {
		zone = z
	}
	loc, err := time.LoadLocation(zone)
	if err != nil {
		loc = time.UTC
	}
	return h.open(s.now().In(loc))
}

// budgetSpent tells the org's managers, once a month, that the bot stopped answering.
func (s *Service) budgetSpent(ctx context.Context, orgID int64) error {
	return s.st.Tx(ctx, func(tx *store.Store) error {
		first, err := tx.AIBudgetAlert(ctx, orgID, monthStart(s.now()))
		if err != nil || !first {
			return err
		}
		spent, _ := s.ai.SpentThisMonth(ctx, orgID)
		_, err = events.AIBudgetSpent.Publish(ctx, tx, orgID, events.AIBudget{Spent: spent})
		return err
	})
}

func monthStart(t time.Time) time.Time {
	t = t.UTC()
	return time.Date(t.Year(), t.Month(), 1, 0, 0, 0, 0, time.UTC)
}

// providerWords is a provider failure in words an admin can act on.
func providerWords(err error) string {
	var pe *provider.Error
	if errors.As(err, &pe) {
		switch {
		case pe.Timeout:
			return "timeout"
		case pe.Status != 0:
			return fmt.Sprintf("HTTP %d %s", pe.Status, pe.Message)
		}
		return pe.Message
	}
	return err.Error()
}

// textOf is a message as the model reads it: its text, or what kind of message it is.
func textOf(m store.BotMessage) string {
	if strings.TrimSpace(m.Body) != "" {
		return m.Body
	}
	return model.Preview(m.Kind, m.Body)
}
