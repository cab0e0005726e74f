package numbers_test

import (
	"testing"

	"masteria/app/sim/retellsim"
	"masteria/app/voice/retell"
)

const retellKey = "key_numbers_test_0123456789"

// retellEnv is the org's Retell account on the Retell simulator, with two agents.
type retellEnv struct {
	sim               *retellsim.Server
	base              string
	key               string
	agentIn, agentOut string
}

func startRetell(t *testing.T) *retellEnv {
	t.Helper()
	sim := retellsim.New(retellsim.WithAPIKeys(retellKey))
	base, err := sim.Start()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(sim.Close)
	in := sim.AddAgent(retell.Agent{AgentName: "Recepção"})
	out := sim.AddAgent(retell.Agent{AgentName: "Vendas"})
	return &retellEnv{sim: sim, base: base, key: retellKey, agentIn: in.AgentID, agentOut: out.AgentID}
}

func (r *retellEnv) client() *retell.Client { return retell.New(r.base, r.key, nil) }

func (r *retellEnv) breakKey() { r.key = "key_that_retell_refuses" }
func (r *retellEnv) fixKey()   { r.key = retellKey }

// checkImported asserts the number is in Retell once, on the trunk with the credential and
// the chosen agents.
func (r *retellEnv) checkImported(t *testing.T, phone, termination, user, password string) {
	t.Helper()
	var found []retell.ImportPhoneNumber
	for _, in := range r.sim.Imports() {
		if in.PhoneNumber == phone {
			found = append(found, in)
		}
	}
	if len(found) != 1 {
		t.Fatalf("imports of %s: %+v", phone, found)
	}
	in := found[0]
	if in.TerminationURI != termination || in.SIPTrunkAuthUsername != user || in.SIPTrunkAuthPassword != password {
		t.Fatalf("import: %+v, want %s %s", in, termination, user)
	}
	if len(in.InboundAgents) != 1 || in.InboundAgents[0].AgentID != r.agentIn || len(in.OutboundAgents) != 1 ||
		in.OutboundAgents[0].AgentID != r.agentOut {
		t.Fatalf("import agents: %+v %+v", in.InboundAgents, in.OutboundAgents)
	}
}
