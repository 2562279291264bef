package http

import (
	"encoding/json"
	"strings"
	"testing"

	railyard "github.com/railyard-cd/railyard"
)

// entry builds a batch entry from a command.
func entry(t *testing.T, cmd railyard.Command) railyard.BatchEntry {
	t.Helper()
	params, err := json.Marshal(cmd)
	noErr(t, err)
	return railyard.BatchEntry{Kind: cmd.Kind(), Params: params}
}

func TestBatch_AppliesAll(t *testing.T) {
	ts := newTestServer(t, Options{})
	ts.seedEnvironments()
	results, err := ts.client.Batch(ctx, []railyard.BatchEntry{
		entry(t, &railyard.PutEnvironment{Name: "qa", Config: railyard.EnvironmentConfig{Upstream: &railyard.Upstream{Environment: "development"}}}),
		entry(t, release(1)),
		entry(t, &railyard.Deploy{Application: "checkout", Environment: "staging", Version: 1}),
		entry(t, &railyard.CreateLock{LockTarget: railyard.LockTarget{Kind: railyard.LockApplication, Environment: "staging", Application: "checkout", ID: "hold"}, Message: "m"}),
	})
	noErr(t, err)
	got := ""
	for _, r := range results {
		got += r.Kind + ":" + r.Outcome + " "
	}
	if got != "environment.put:created release.create:created deploy:deployed lock.create:created " {
		t.Fatalf("got %s", got)
	}
	if id, _ := ts.engine.LastEventID(ctx); id != results[3].Event.ID || results[3].Event.Actor != ts.client.Actor {
		t.Fatalf("got last event %d by %+v, want the batch's four events by the client's actor", id, results[3].Event.Actor)
	}
}

func TestBatch_Atomic(t *testing.T) {
	ts := newTestServer(t, Options{})
	ts.seedEnvironments()
	ts.seedRelease(release(1))
	before := ts.state()
	body := batchRequest{Commands: []railyard.BatchEntry{
		entry(t, &railyard.CreateLock{LockTarget: railyard.LockTarget{Kind: railyard.LockEnvironment, Environment: "staging", ID: "freeze"}, Message: "m"}),
		entry(t, &railyard.Deploy{Application: "checkout", Environment: "staging", Version: 2}),
	}}
	e := ts.doJSON("POST", "/api/v1/batch", body).wantError(t, 404, railyard.ENOTFOUND, "")
	if !strings.HasPrefix(e.Message, "command 2 (deploy): ") {
		t.Fatalf("got message %q, want it to name command 2", e.Message)
	}
	ts.unchanged(before)

	body.Commands[1] = entry(t, &railyard.Deploy{Application: "checkout", Environment: "staging", Version: 1})
	e = ts.doJSON("POST", "/api/v1/batch", body).wantError(t, 423, railyard.ELOCKED, "")
	if len(e.Blockers) != 1 || e.Blockers[0].Lock.ID != "freeze" {
		t.Fatalf("got blockers %+v, want the batch's own lock", e.Blockers)
	}
	ts.unchanged(before)
}

func TestBatch_BadInput(t *testing.T) {
	ts := newTestServer(t, Options{})
	ts.seedEnvironments()
	before := ts.state()
	many := make([]string, railyard.MaxBatchCommands+1)
	for i := range many {
		many[i] = `{"kind":"environment.delete","params":{"name":"qa"}}`
	}
	cases := []struct {
		name, body  string
		status      int
		code, field string
	}{
		{"empty", `{"commands":[]}`, 400, railyard.EINVALID, "commands"},
		{"no commands", `{}`, 400, railyard.EINVALID, "commands"},
		{"too many", `{"commands":[` + strings.Join(many, ",") + `]}`, 400, railyard.EINVALID, "commands"},
		{"unknown kind", `{"commands":[{"kind":"deploy","params":{"application":"a","environment":"staging","version":1}},{"kind":"explode","params":{}}]}`, 400, railyard.EINVALID, "commands[1].kind"},
		{"unknown param", `{"commands":[{"kind":"deploy","params":{"application":"a","environment":"staging","version":1,"force":true}}]}`, 400, railyard.EINVALID, "commands[0].force"},
		{"wrong type", `{"commands":[{"kind":"deploy","params":{"application":"a","environment":"staging","version":"1"}}]}`, 400, railyard.EINVALID, "commands[0].version"},
		{"invalid command", `{"commands":[{"kind":"environment.delete","params":{"name":"qa"}},{"kind":"deploy","params":{"application":"a","environment":"staging","version":0}}]}`, 400, railyard.EINVALID, "commands[1].version"},
		{"unknown top-level field", `{"commands":[],"atomic":true}`, 400, railyard.EINVALID, "atomic"},
		{"not JSON", `commands`, 400, railyard.EINVALID, "body"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ts.doJSON("POST", "/api/v1/batch", c.body).wantError(t, c.status, c.code, c.field)
			ts.unchanged(before)
		})
	}
	_, err := ts.client.Batch(ctx, nil)
	wantError(t, err, railyard.EINVALID, "commands")
}
