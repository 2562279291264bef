package railyard_test

import (
	"strings"
	"testing"

	"github.com/railyard-cd/railyard"
)

func TestSortEnvironments(t *testing.T) {
	env := func(name, upstream, group string) *railyard.Environment {
		e := &railyard.Environment{Name: name}
		e.Config.EnvironmentGroup = group
		if upstream == "*" {
			e.Config.Upstream = &railyard.Upstream{Latest: true}
		} else if upstream != "" {
			e.Config.Upstream = &railyard.Upstream{Environment: upstream}
		}
		return e
	}
	envs := []*railyard.Environment{
		env("production", "staging", ""), env("jp-prod", "staging", "prod"), env("de-prod", "staging", "prod"),
		env("staging", "development", ""), env("adhoc", "", ""), env("development", "*", ""), env("qa", "development", ""),
	}
	railyard.SortEnvironments(envs)
	var names []string
	for _, e := range envs {
		names = append(names, e.Name)
	}
	assertEqual(t, "order", strings.Join(names, ","), "adhoc,development,qa,staging,production,de-prod,jp-prod")
}

func TestEnvironmentRules(t *testing.T) {
	h := newHarness(t).chain()
	up := func(env string) *railyard.Upstream { return &railyard.Upstream{Environment: env} }
	cases := []struct {
		name, env string
		cfg       railyard.EnvironmentConfig
		code      string
		field     string
	}{
		{"cycle", "development", railyard.EnvironmentConfig{Upstream: up("production")}, railyard.EINVALID, "upstream.environment"},
		{"self", "staging", railyard.EnvironmentConfig{Upstream: up("staging")}, railyard.EINVALID, "upstream.environment"},
		{"unknown upstream", "qa", railyard.EnvironmentConfig{Upstream: up("nope")}, railyard.EINVALID, "upstream.environment"},
		{"both", "qa", railyard.EnvironmentConfig{Upstream: &railyard.Upstream{Latest: true, Environment: "staging"}}, railyard.EINVALID, "upstream"},
		{"neither", "qa", railyard.EnvironmentConfig{Upstream: &railyard.Upstream{}}, railyard.EINVALID, "upstream"},
		{"branch without latest", "qa", railyard.EnvironmentConfig{Upstream: &railyard.Upstream{Environment: "staging", Branch: "main"}}, railyard.EINVALID, "upstream.branch"},
		{"bad branch regexp", "qa", railyard.EnvironmentConfig{Upstream: &railyard.Upstream{Latest: true, Branch: "("}}, railyard.EINVALID, "upstream.branch"},
		{"bad group", "qa", railyard.EnvironmentConfig{EnvironmentGroup: "Prod"}, railyard.EINVALID, "environmentGroup"},
		{"bad name", "QA", railyard.EnvironmentConfig{}, railyard.EINVALID, "environment"},
		{"long name", strings.Repeat("a", 24), railyard.EnvironmentConfig{}, railyard.EINVALID, "environment"},
		{"bad window kind", "qa", railyard.EnvironmentConfig{DeployWindows: []railyard.DeployWindow{{Kind: "maybe", Schedule: "0 9 * * *", Duration: "1h"}}}, railyard.EINVALID, "deployWindows[0].kind"},
		{"bad cron", "qa", railyard.EnvironmentConfig{DeployWindows: []railyard.DeployWindow{{Kind: "allow", Schedule: "0 25 * * *", Duration: "1h"}}}, railyard.EINVALID, "deployWindows[0].schedule"},
		{"bad duration", "qa", railyard.EnvironmentConfig{DeployWindows: []railyard.DeployWindow{{Kind: "allow", Schedule: "0 9 * * *", Duration: "soon"}}}, railyard.EINVALID, "deployWindows[0].duration"},
		{"bad zone", "qa", railyard.EnvironmentConfig{DeployWindows: []railyard.DeployWindow{{Kind: "allow", Schedule: "0 9 * * *", Duration: "1h", TimeZone: "Mars/Olympus"}}}, railyard.EINVALID, "deployWindows[0].timeZone"},
		{"bad branch restriction", "qa", railyard.EnvironmentConfig{BranchRestriction: "[a-"}, railyard.EINVALID, "branchRestriction"},
		{"argocd without destination", "qa", railyard.EnvironmentConfig{ArgoCD: &railyard.ArgoCDConfig{}}, railyard.EINVALID, "argocd.destination"},
		{"argocd bad layout", "qa", railyard.EnvironmentConfig{ArgoCD: &railyard.ArgoCDConfig{Layout: "many", Destination: railyard.ArgoCDDestination{Server: "https://k"}}}, railyard.EINVALID, "argocd.layout"},
		{"argocd bad sync window", "qa", railyard.EnvironmentConfig{ArgoCD: &railyard.ArgoCDConfig{Destination: railyard.ArgoCDDestination{Server: "https://k"}, SyncWindows: []railyard.ArgoCDSyncWindow{{Kind: "allow", Schedule: "x", Duration: "1h"}}}}, railyard.EINVALID, "argocd.syncWindows[0].schedule"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			before := h.snapshot()
			err := h.fail(tc.code, &railyard.PutEnvironment{Name: tc.env, Config: tc.cfg})
			assertEqual(t, "field", err.Field, tc.field)
			assertEqual(t, "state", h.snapshot(), before)
		})
	}

	res := h.must(&railyard.PutEnvironment{Name: "staging", Config: railyard.EnvironmentConfig{Upstream: up("development")}})
	assertEqual(t, "same config", res.Outcome, railyard.OutcomeUnchanged)
	res = h.must(&railyard.PutEnvironment{Name: "staging", Config: railyard.EnvironmentConfig{Upstream: up("development"), EnvironmentGroup: "pre"}})
	assertEqual(t, "changed config", res.Outcome, railyard.OutcomeUpdated)
	assertEqual(t, "created time kept", res.Environment.CreatedAt, t0)

	err := h.fail(railyard.ECONFLICT, &railyard.DeleteEnvironment{Name: "staging"})
	assertEqual(t, "delete upstream", err.Message, "environment staging is the upstream of production: change or delete production first")
	h.release("checkout", 1, "payments", "production")
	h.must(&railyard.Deploy{Application: "checkout", Environment: "production", Version: 1})
	h.must(&railyard.CreateLock{LockTarget: railyard.LockTarget{Kind: railyard.LockEnvironment, Environment: "production", ID: "l"}, Message: "m"})
	res = h.must(&railyard.DeleteEnvironment{Name: "production"})
	var ops []string
	for _, c := range res.Event.Changes {
		ops = append(ops, c.Op)
	}
	assertEqual(t, "delete changes", strings.Join(ops, ","), "lock.delete,deployment.delete,environment.delete")
	h.fail(railyard.ENOTFOUND, &railyard.DeleteEnvironment{Name: "production"})
}

func TestPromotionConfigRules(t *testing.T) {
	h := trainHarness(t)
	up := &railyard.Upstream{Environment: "staging"}
	cases := []struct {
		name  string
		cfg   railyard.EnvironmentConfig
		field string
	}{
		{"window @every", railyard.EnvironmentConfig{DeployWindows: []railyard.DeployWindow{allow("@every 1h", "1h", "")}}, "deployWindows[0].schedule"},
		{"window TZ prefix", railyard.EnvironmentConfig{DeployWindows: []railyard.DeployWindow{allow("TZ=Asia/Tokyo 0 9 * * *", "1h", "")}}, "deployWindows[0].schedule"},
		{"window negative duration", railyard.EnvironmentConfig{DeployWindows: []railyard.DeployWindow{allow("0 9 * * *", "-1h", "")}}, "deployWindows[0].duration"},
		{"train without upstream", railyard.EnvironmentConfig{ReleaseTrains: []railyard.ScheduledTrain{{Schedule: "0 12 * * *"}}}, "releaseTrains[0]"},
		{"train bad cron", railyard.EnvironmentConfig{Upstream: up, ReleaseTrains: []railyard.ScheduledTrain{{Schedule: "0 12 * *"}}}, "releaseTrains[0].schedule"},
		{"train bad zone", railyard.EnvironmentConfig{Upstream: up, ReleaseTrains: []railyard.ScheduledTrain{{Schedule: "0 12 * * *", TimeZone: "Europe/Atlantis"}}}, "releaseTrains[0].timeZone"},
		{"train bad team", railyard.EnvironmentConfig{Upstream: up, ReleaseTrains: []railyard.ScheduledTrain{{Schedule: "0 12 * * *", Team: "Payments"}}}, "releaseTrains[0].team"},
		{"train second entry", railyard.EnvironmentConfig{Upstream: up, ReleaseTrains: []railyard.ScheduledTrain{{Schedule: "0 12 * * *"}, {Schedule: "@every 5m"}}}, "releaseTrains[1].schedule"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			before := h.snapshot()
			err := h.fail(railyard.EINVALID, &railyard.PutEnvironment{Name: "production", Config: tc.cfg})
			assertEqual(t, "field", err.Field, tc.field)
			if !strings.HasPrefix(err.Message, tc.field) {
				t.Errorf("message %q does not start with the field", err.Message)
			}
			assertEqual(t, "state", h.snapshot(), before)
		})
	}
}
