package numbers

import (
	"context"
	"errors"
	"fmt"

	"masteria/app/model"
	"masteria/app/voice/twilio"
)

// ReleaseSteps are the steps of a release in order; a row's ReleaseStep is the one it runs
// next (or failed at). A number bought here runs them all, each skipped when the set-up
// never got that far; a linked number only leaves Retell, and only when the user asks.
var ReleaseSteps = []string{model.ReleaseRetell, model.ReleaseDetach, model.ReleaseCredentials,
	model.ReleaseOrigination, model.ReleaseTrunk, model.ReleaseNumber}

// Released is the status Release answers once every step is done and the row is gone.
const Released = "released"

// Releasing reports whether n is being released or its release stopped (Continue goes on
// with the release, not the set-up).
func Releasing(n model.VoiceNumber) bool {
	return n.ReleaseStep != "" || n.Status == "releasing" || n.Status == "release_failed"
}

// Release gives a number up: a number bought here leaves Retell, its trunk's number,
// credential list, origination URL and trunk are deleted and the number goes back to
// Twilio; a linked number is only forgotten here, and removed from Retell when fromRetell.
// Each step is recorded: the first failure stops the release at that step with the reason
// (a *StepError, status release_failed) and Continue goes on from there without repeating
// the steps done. A provider's 404 on a delete means done already. Once done, the row is
// deleted and the number is answered with status Released.
func (s *Service) Release(ctx context.Context, a model.Actor, id int64, fromRetell bool) (model.VoiceNumber, error) {
	if err := admin(a); err != nil {
		return model.VoiceNumber{}, err
	}
	n, err := s.st.VoiceNumber(ctx, a.OrgID, id)
	if err != nil {
		return n, err
	}
	if n.Source == "twilio" {
		fromRetell = true // its trunk goes: Retell must not keep dialling through it
	}
	return s.claimRelease(ctx, n, fromRetell)
}

func (s *Service) claimRelease(ctx context.Context, n model.VoiceNumber, fromRetell bool) (model.VoiceNumber, error) {
	ok, err := s.st.ClaimVoiceNumberRelease(ctx, n.OrgID, n.ID, fromRetell)
	if err != nil {
		return n, err
	}
	if !ok {
		return n, model.ErrConflict
	}
	if n, err = s.st.VoiceNumber(ctx, n.OrgID, n.ID); err != nil {
		return n, err
	}
	return s.release(ctx, n)
}

// release runs n's release from its ReleaseStep, saving after each step.
func (s *Service) release(ctx context.Context, n model.VoiceNumber) (model.VoiceNumber, error) {
	fail := func(err error) (model.VoiceNumber, error) {
		reason := plain(err)
		n.Status, n.LastError = "release_failed", reason
		if ferr := s.st.FailVoiceNumberRelease(context.WithoutCancel(ctx), n.OrgID, n.ID, reason); ferr != nil {
			return n, errors.Join(err, ferr)
		}
		s.cfg.Log.Info("numbers: release step failed", "org", n.OrgID, "number", n.ID, "step", n.ReleaseStep, "err", err)
		return n, &StepError{Step: "release_" + n.ReleaseStep, Reason: reason}
	}
	var tw *twilio.Client
	twilioClient := func() (*twilio.Client, error) {
		if tw != nil {
			return tw, nil
		}
		if n.TwilioChannelID == nil {
			return nil, model.ErrNotFound
		}
		var err error
		tw, err = s.twilioFor(ctx, n.OrgID, *n.TwilioChannelID)
		return tw, err
	}
	for {
		i := indexOf(ReleaseSteps, n.ReleaseStep)
		if i < 0 {
			return n, fmt.Errorf("numbers: unknown release step %q", n.ReleaseStep)
		}
		if err := s.releaseStep(ctx, &n, twilioClient); err != nil {
			return fail(err)
		}
		if i+1 == len(ReleaseSteps) || n.Source != "twilio" {
			break
		}
		n.ReleaseStep = ReleaseSteps[i+1]
		if err := s.st.SaveVoiceNumberRelease(context.WithoutCancel(ctx), n.OrgID, n); err != nil {
			return n, err
		}
	}
	if err := s.st.DeleteVoiceNumber(context.WithoutCancel(ctx), n.OrgID, n.ID); err != nil {
		return n, err
	}
	n.Status, n.ReleaseStep, n.LastError = Released, "", ""
	return n, nil
}

func indexOf(list []string, v string) int {
	for i, x := range list {
		if x == v {
			return i
		}
	}
	return -1
}

// imported reports whether a number bought here may be in Retell: its set-up reached the
// import (whose answer may have been lost).
func imported(n model.VoiceNumber) bool {
	return n.Step == model.NumberImported || n.Step == model.NumberReady
}

// releaseStep runs n's current release step; what is not there (never made, or gone
// already) is skipped.
func (s *Service) releaseStep(ctx context.Context, n *model.VoiceNumber, twilioClient func() (*twilio.Client, error)) error {
	switch n.ReleaseStep {
	case model.ReleaseRetell:
		if !n.ReleaseFromRetell || (n.Source == "twilio" && !imported(*n)) {
			return nil
		}
		rt, err := s.cfg.Retell(ctx, n.OrgID)
		if errors.Is(err, model.ErrNotFound) {
			return ErrNoRetell
		}
		if err != nil {
			return err
		}
		return rt.DeletePhoneNumber(ctx, n.PhoneNumber)

	case model.ReleaseDetach:
		if n.TwilioNumberSID == "" && n.TrunkSID == "" && n.TerminationURI == "" {
			return nil // nothing was bought or made
		}
		tw, err := twilioClient()
		if err != nil {
			return err
		}
		// A trunk or a purchase whose answer was lost: find them, to release them too.
		if n.TrunkSID == "" && n.TerminationURI != "" {
			t, found, err := tw.TrunkByDomain(ctx, n.TerminationURI)
			if err != nil {
				return err
			}
			if found {
				n.TrunkSID = t.Sid
			}
		}
		if n.TwilioNumberSID == "" {
			got, owned, err := tw.IncomingNumberByPhone(ctx, n.PhoneNumber)
			if err != nil {
				return err
			}
			if owned {
				n.TwilioNumberSID = got.Sid
			}
		}
		if n.TrunkSID == "" || n.TwilioNumberSID == "" {
			return nil
		}
		return tw.DetachPhoneNumber(ctx, n.TrunkSID, n.TwilioNumberSID)

	case model.ReleaseCredentials:
		if n.CredentialListSID == "" {
			return nil
		}
		tw, err := twilioClient()
		if err != nil {
			return err
		}
		if n.TrunkSID != "" {
			if err := tw.DetachCredentialList(ctx, n.TrunkSID, n.CredentialListSID); err != nil {
				return err
			}
		}
		return tw.DeleteCredentialList(ctx, n.CredentialListSID)

	case model.ReleaseOrigination:
		if n.OriginationURLSID == "" || n.TrunkSID == "" {
			return nil
		}
		tw, err := twilioClient()
		if err != nil {
			return err
		}
		return tw.DeleteOriginationURL(ctx, n.TrunkSID, n.OriginationURLSID)

	case model.ReleaseTrunk:
		if n.TrunkSID == "" {
			return nil
		}
		tw, err := twilioClient()
		if err != nil {
			return err
		}
		return tw.DeleteTrunk(ctx, n.TrunkSID)

	case model.ReleaseNumber:
		if n.TwilioNumberSID == "" {
			return nil
		}
		tw, err := twilioClient()
		if err != nil {
			return err
		}
		return tw.ReleaseNumber(ctx, n.TwilioNumberSID)
	}
	return fmt.Errorf("numbers: unknown release step %q", n.ReleaseStep)
}
