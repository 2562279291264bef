package railyard_test

import (
	"context"
	"strings"
	"testing"

	"github.com/railyard-cd/railyard"
)

func TestBatchIsAtomic(t *testing.T) {
	h := newHarness(t).chain()
	h.release("checkout", 1, "payments", "development", "staging")
	before := h.snapshot()
	_, err := h.eng.Apply(context.Background(), alice,
		&railyard.Deploy{Application: "checkout", Environment: "staging", Version: 1},
		&railyard.CreateLock{LockTarget: railyard.LockTarget{Kind: railyard.LockEnvironment, Environment: "staging", ID: "a"}, Message: "m"},
		&railyard.Deploy{Application: "checkout", Environment: "staging", Version: 9},
	)
	assertEqual(t, "code", railyard.ErrorCode(err), railyard.ENOTFOUND)
	if !strings.HasPrefix(railyard.ErrorMessage(err), "command 3 (deploy): ") {
		t.Errorf("message %q does not name the failing command", railyard.ErrorMessage(err))
	}
	assertEqual(t, "state after failed batch", h.snapshot(), before)

	results, err := h.eng.Apply(context.Background(), bob,
		&railyard.Deploy{Application: "checkout", Environment: "staging", Version: 1},
		&railyard.CreateLock{LockTarget: railyard.LockTarget{Kind: railyard.LockEnvironment, Environment: "staging", ID: "a"}, Message: "m"},
	)
	if err != nil {
		t.Fatal(err)
	}
	assertEqual(t, "events", results[1].Event.ID, results[0].Event.ID+1)
	assertEqual(t, "actor", results[1].Event.Actor, bob)

	cmds := make([]railyard.Command, railyard.MaxBatchCommands+1)
	for i := range cmds {
		cmds[i] = &railyard.DeleteEnvironment{Name: "x"}
	}
	_, err = h.eng.Apply(context.Background(), alice, cmds...)
	assertEqual(t, "too many", railyard.ErrorMessage(err), "commands: a batch holds at most 100 commands, got 101")
}

func TestEventsRecordEveryChange(t *testing.T) {
	h := newHarness(t)
	h.actor = bob
	h.put("development", railyard.EnvironmentConfig{Upstream: &railyard.Upstream{Latest: true}})
	h.release("checkout", 1, "payments", "development")
	ev := h.lastEvent()
	assertEqual(t, "kind", ev.Kind, railyard.KindReleaseCreate)
	assertEqual(t, "actor", ev.Actor, bob)
	assertEqual(t, "time", ev.Time, t0)
	var ops []string
	for _, c := range ev.Changes {
		ops = append(ops, c.Op)
	}
	assertEqual(t, "changes", strings.Join(ops, ","), "application.put,release.create,deployment.deploy")
	if ev.Changes[1].Release == nil || ev.Changes[1].Release.Manifests["development"] == "" {
		t.Errorf("release.create change does not carry the manifests")
	}
	byCommit, err := h.eng.FindEvents(context.Background(), railyard.EventFilter{SourceCommitID: "0123456"})
	if err != nil {
		t.Fatal(err)
	}
	assertEqual(t, "events by source commit", len(byCommit), 1)
	byApp, _ := h.eng.FindEvents(context.Background(), railyard.EventFilter{Application: "checkout", Environment: "development"})
	assertEqual(t, "events by application and environment", len(byApp), 1)
}

func TestBadCommandsChangeNothing(t *testing.T) {
	h := newHarness(t).chain()
	h.release("checkout", 1, "payments", "development", "staging")
	cases := []struct {
		name  string
		cmd   railyard.Command
		code  string
		field string
	}{
		{"release path escape", &railyard.CreateRelease{Application: "..", Manifests: map[string]string{"development": "a: b"}}, railyard.EINVALID, "application"},
		{"release slash", &railyard.CreateRelease{Application: "a/b", Manifests: map[string]string{"development": "a: b"}}, railyard.EINVALID, "application"},
		{"release uppercase", &railyard.CreateRelease{Application: "Checkout", Manifests: map[string]string{"development": "a: b"}}, railyard.EINVALID, "application"},
		{"release unicode", &railyard.CreateRelease{Application: "chéckout", Manifests: map[string]string{"development": "a: b"}}, railyard.EINVALID, "application"},
		{"release 200 characters", &railyard.CreateRelease{Application: strings.Repeat("a", 200), Manifests: map[string]string{"development": "a: b"}}, railyard.EINVALID, "application"},
		{"release negative version", &railyard.CreateRelease{Application: "a", Version: -1, Manifests: map[string]string{"development": "a: b"}}, railyard.EINVALID, "version"},
		{"release no manifests", &railyard.CreateRelease{Application: "a"}, railyard.EINVALID, "manifests"},
		{"release unknown environment", &railyard.CreateRelease{Application: "a", Manifests: map[string]string{"nope": "a: b"}}, railyard.EINVALID, "manifests[nope]"},
		{"release environment path escape", &railyard.CreateRelease{Application: "a", Manifests: map[string]string{"../x": "a: b"}}, railyard.EINVALID, "manifests[../x]"},
		{"release invalid yaml", &railyard.CreateRelease{Application: "a", Manifests: map[string]string{"development": "a: [b"}}, railyard.EINVALID, "manifests[development]"},
		{"release bad commit", &railyard.CreateRelease{Application: "a", SourceCommitID: "xyz", Manifests: map[string]string{"development": "a: b"}}, railyard.EINVALID, "sourceCommitId"},
		{"release long display version", &railyard.CreateRelease{Application: "a", DisplayVersion: "1234567890123456", Manifests: map[string]string{"development": "a: b"}}, railyard.EINVALID, "displayVersion"},
		{"release bad ci link", &railyard.CreateRelease{Application: "a", CILink: "javascript:alert(1)", Manifests: map[string]string{"development": "a: b"}}, railyard.EINVALID, "ciLink"},
		{"release bad team", &railyard.CreateRelease{Application: "a", Team: "A Team", Manifests: map[string]string{"development": "a: b"}}, railyard.EINVALID, "team"},
		{"deploy version 0", &railyard.Deploy{Application: "checkout", Environment: "staging"}, railyard.EINVALID, "version"},
		{"deploy unknown version", &railyard.Deploy{Application: "checkout", Environment: "staging", Version: 9}, railyard.ENOTFOUND, ""},
		{"deploy unknown application", &railyard.Deploy{Application: "nope", Environment: "staging", Version: 1}, railyard.ENOTFOUND, ""},
		{"deploy unknown environment", &railyard.Deploy{Application: "checkout", Environment: "nope", Version: 1}, railyard.ENOTFOUND, ""},
		{"deploy without manifest", &railyard.Deploy{Application: "checkout", Environment: "production", Version: 1}, railyard.EINVALID, "environment"},
		{"deploy bad behaviour", &railyard.Deploy{Application: "checkout", Environment: "staging", Version: 1, LockBehavior: "force"}, railyard.EINVALID, "lockBehavior"},
		{"lock bad id", &railyard.CreateLock{LockTarget: railyard.LockTarget{Kind: railyard.LockEnvironment, Environment: "staging", ID: "../x"}, Message: "m"}, railyard.EINVALID, "lockId"},
		{"lock dot id", &railyard.CreateLock{LockTarget: railyard.LockTarget{Kind: railyard.LockEnvironment, Environment: "staging", ID: ".."}, Message: "m"}, railyard.EINVALID, "lockId"},
		{"lock no message", &railyard.CreateLock{LockTarget: railyard.LockTarget{Kind: railyard.LockEnvironment, Environment: "staging", ID: "x"}}, railyard.EINVALID, "message"},
		{"lock bad kind", &railyard.CreateLock{LockTarget: railyard.LockTarget{Kind: "cluster", Environment: "staging", ID: "x"}, Message: "m"}, railyard.EINVALID, "kind"},
		{"lock missing application", &railyard.CreateLock{LockTarget: railyard.LockTarget{Kind: railyard.LockApplication, Environment: "staging", ID: "x"}, Message: "m"}, railyard.EINVALID, "application"},
		{"lock stray team", &railyard.CreateLock{LockTarget: railyard.LockTarget{Kind: railyard.LockEnvironment, Environment: "staging", Team: "payments", ID: "x"}, Message: "m"}, railyard.EINVALID, "team"},
		{"lock unknown environment", &railyard.CreateLock{LockTarget: railyard.LockTarget{Kind: railyard.LockEnvironment, Environment: "nope", ID: "x"}, Message: "m"}, railyard.ENOTFOUND, ""},
		{"lock unknown application", &railyard.CreateLock{LockTarget: railyard.LockTarget{Kind: railyard.LockApplication, Environment: "staging", Application: "nope", ID: "x"}, Message: "m"}, railyard.ENOTFOUND, ""},
		{"lock unknown team", &railyard.CreateLock{LockTarget: railyard.LockTarget{Kind: railyard.LockTeam, Environment: "staging", Team: "nope", ID: "x"}, Message: "m"}, railyard.ENOTFOUND, "team"},
		{"unlock missing", &railyard.DeleteLock{LockTarget: railyard.LockTarget{Kind: railyard.LockEnvironment, Environment: "staging", ID: "x"}}, railyard.ENOTFOUND, "lockId"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			before := h.snapshot()
			err := h.fail(tc.code, tc.cmd)
			assertEqual(t, "field", err.Field, tc.field)
			assertEqual(t, "state", h.snapshot(), before)
		})
	}
}

func TestSubscribeSignalsCommits(t *testing.T) {
	h := newHarness(t)
	ch, cancel := h.eng.Subscribe()
	defer cancel()
	h.put("development", railyard.EnvironmentConfig{})
	select {
	case <-ch:
	default:
		t.Fatal("no signal after a commit with an event")
	}
	h.put("development", railyard.EnvironmentConfig{}) // unchanged: no event
	select {
	case <-ch:
		t.Fatal("signal after a command that recorded nothing")
	default:
	}
}

func assertEqual[T comparable](t testing.TB, what string, got, want T) {
	t.Helper()
	if got != want {
		t.Errorf("%s: got %v, want %v", what, got, want)
	}
}
