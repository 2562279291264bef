package main

import (
	"bytes"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/railyard-cd/railyard"
	"github.com/railyard-cd/railyard/internal/golden"
)

// The tables for people are golden-tested on fixed objects here, and on a
// real server's answers in commands_test.go.

func at(minutes int) time.Time { return testNow.Add(time.Duration(minutes) * time.Minute) }

func atPtr(minutes int) *time.Time { t := at(minutes); return &t }

func ptr(v int64) *int64 { return &v }

var (
	jane = railyard.Actor{Name: "Jane Doe", Email: "jane@example.com"}
	bob  = railyard.Actor{Name: "Bob", Email: "bob@example.com"}
)

func fixtureEnvironments() []*railyard.Environment {
	return []*railyard.Environment{
		{Name: "development", Config: railyard.EnvironmentConfig{Upstream: &railyard.Upstream{Latest: true, Branch: "^main$"}}, CreatedAt: at(0), UpdatedAt: at(0)},
		{Name: "production", Config: railyard.EnvironmentConfig{Upstream: &railyard.Upstream{Environment: "staging"}, EnvironmentGroup: "prod",
			ArgoCD: &railyard.ArgoCDConfig{Destination: railyard.ArgoCDDestination{Server: "https://prod.example.com", Namespace: "apps"}}}, CreatedAt: at(0), UpdatedAt: at(30)},
		{Name: "staging", Config: railyard.EnvironmentConfig{Upstream: &railyard.Upstream{Environment: "development"}}, CreatedAt: at(0), UpdatedAt: at(0)},
		{Name: "sandbox", CreatedAt: at(1), UpdatedAt: at(1)},
	}
}

func fixtureLocks() []*railyard.Lock {
	return []*railyard.Lock{
		{LockTarget: railyard.LockTarget{Kind: railyard.LockEnvironment, Environment: "production", ID: "freeze"}, Message: "Black Friday: no changes until Monday\nAsk #release for exceptions", CreatedBy: bob, CreatedAt: at(5), ExpiresAt: atPtr(48 * 60)},
		{LockTarget: railyard.LockTarget{Kind: railyard.LockApplication, Environment: "staging", Application: "checkout", ID: "hotfix"}, Message: "Testing a hotfix", CreatedBy: jane, CreatedAt: at(6)},
		{LockTarget: railyard.LockTarget{Kind: railyard.LockTeam, Environment: "staging", Team: "payments", ID: "q4"}, Message: "Quarter close", CreatedBy: jane, CreatedAt: at(7), CILink: "https://ci.example.com/1"},
	}
}

func fixtureApplication() *railyard.ApplicationDetail {
	locks := fixtureLocks()
	return &railyard.ApplicationDetail{
		Application: railyard.Application{Name: "checkout", Team: "payments", CreatedAt: at(1)},
		Releases: []*railyard.Release{
			{Application: "checkout", Version: 3, Environments: []string{"development", "production", "staging"}, SourceCommitID: "9a8b7c6d5e4f", SourceAuthor: "Jane Doe",
				SourceMessage: "Show the delivery date on the confirmation page, with the carrier's estimate\n\nLonger body.", SourceBranch: "main", DisplayVersion: "1.5.0", CreatedAt: at(20)},
			{Application: "checkout", Version: 2, Environments: []string{"development", "staging"}, SourceCommitID: "4f1c2e9", SourceAuthor: "Bob", SourceMessage: "Fix rounding", DisplayVersion: "1.4.2", CreatedAt: at(10)},
			{Application: "checkout", Version: 1, Environments: []string{"development"}, CreatedAt: at(2)},
		},
		Environments: map[string]*railyard.ApplicationEnvironment{
			"development": {Deployment: railyard.Deployment{Application: "checkout", Environment: "development", Version: ptr(3), DeployedAt: atPtr(20), DeployedBy: &jane}, Locks: []*railyard.Lock{}},
			"staging": {Deployment: railyard.Deployment{Application: "checkout", Environment: "staging", Version: ptr(2), DeployedAt: atPtr(12), DeployedBy: &bob,
				QueuedVersion: ptr(3), QueuedAt: atPtr(21)}, Locks: locks[1:]},
			"production": {Deployment: railyard.Deployment{Application: "checkout", Environment: "production"}, Locks: locks[:1]},
			"sandbox":    {Deployment: railyard.Deployment{Application: "checkout", Environment: "sandbox", Version: ptr(1), DeployedAt: atPtr(3), DeployedBy: &jane}, Locks: []*railyard.Lock{}},
		},
	}
}

func fixtureEvents() []*railyard.Event {
	// Event 13 has details, which the table leaves out; event 9 was
	// recorded before descriptions were bounded, as one line of 3,856
	// applications: the table shows 100 characters of it.
	var old []string
	for i := range 3856 {
		old = append(old, fmt.Sprintf("app-%05d 2 (1.2) to env-02", i))
	}
	return []*railyard.Event{
		{ID: 13, Time: at(22), Actor: jane, Kind: railyard.KindLockDelete, Description: "Unlock env-02 (db-migration), deploy 3,856 queued applications\n\n" +
			"Deploy queued app-00000 2 (1.2) to env-02\nDeploy queued app-00001 2 (1.2) to env-02\n… and 3,854 more"},
		{ID: 12, Time: at(21), Actor: jane, Kind: railyard.KindReleaseCreate, Description: "Release checkout 3 (1.5.0), deploy to development, queue in staging (locked)"},
		{ID: 11, Time: at(7), Actor: jane, Kind: railyard.KindLockCreate, Description: "Lock team payments in staging (q4): Quarter close"},
		{ID: 10, Time: at(5), Actor: railyard.SystemActor, Kind: railyard.KindLockExpire, Description: "Remove expired locks: production (night)"},
		{ID: 9, Time: at(4), Actor: jane, Kind: railyard.KindLockDelete, Description: "Unlock env-02 (db-migration), deploy queued " + strings.Join(old, ", ")},
	}
}

func fixtureOverview() *railyard.Overview {
	envs := fixtureEnvironments()[:3]
	locks := fixtureLocks()
	return &railyard.Overview{
		Environments: envs,
		Applications: []*railyard.OverviewApplication{
			{Name: "cart", Environments: map[string]*railyard.OverviewCell{
				"development": {Version: ptr(7), Locks: []*railyard.Lock{}},
				"staging":     {Version: ptr(6), Locks: []*railyard.Lock{}},
				"production":  {Version: ptr(5), Locks: locks[:1]},
			}},
			{Name: "checkout", Team: "payments", Environments: map[string]*railyard.OverviewCell{
				"development": {Version: ptr(3), Locks: []*railyard.Lock{}},
				"staging":     {Version: ptr(2), QueuedVersion: ptr(3), Locks: locks[1:]},
				"production":  {Locks: locks[:1]},
			}},
		},
	}
}

// Deploy windows of the fixtures: production denies 09:00–17:00 Berlin
// time on weekdays (testNow, 09:00 UTC on a Friday, is inside); jp-prod
// allows 09:00–18:00 Tokyo time on weekdays (testNow is 18:00 there:
// closed until Monday).
var (
	denyBerlin = railyard.DeployWindow{Kind: railyard.DeployWindowDeny, Schedule: "0 9 * * 1-5", Duration: "8h", TimeZone: "Europe/Berlin"}
	allowTokyo = railyard.DeployWindow{Kind: railyard.DeployWindowAllow, Schedule: "0 9 * * 1-5", Duration: "9h", TimeZone: "Asia/Tokyo"}
)

func fixtureWindowedEnvironment() *railyard.Environment {
	e := fixtureEnvironments()[1]
	e.Config.DeployWindows = []railyard.DeployWindow{denyBerlin}
	return e
}

func fixtureWindowState() *railyard.WindowState {
	return &railyard.WindowState{Blockers: []railyard.Blocker{{Kind: railyard.BlockerWindow, Window: &denyBerlin, Until: atPtr(7 * 60)}}, NextChange: atPtr(7 * 60)}
}

// fixtureTrain is a group train with every outcome, skip reason and kind
// of blocker.
func fixtureTrain(dryRun bool) *railyard.TrainResult {
	lock := fixtureLocks()[2]
	tr := &railyard.TrainResult{Group: "prod", DryRun: dryRun, Deployed: 1, Queued: 2, Skipped: 4,
		Environments: []*railyard.TrainEnvironment{
			{Environment: "adhoc", SkipReason: railyard.SkipEnvironmentNotInChain, Applications: []*railyard.TrainApplication{}},
			{Environment: "production", Upstream: "staging", Applications: []*railyard.TrainApplication{
				{Application: "cart", Team: "shop", Outcome: railyard.OutcomeDeployed, From: ptr(6), To: ptr(7)},
				{Application: "checkout", Team: "payments", Outcome: railyard.OutcomeQueued, From: ptr(41), To: ptr(42), Blockers: []railyard.Blocker{
					{Kind: railyard.LockTeam, Lock: lock, Description: "team lock"},
					{Kind: railyard.BlockerWindow, Window: &denyBerlin, Until: atPtr(7 * 60), Description: "deploy window"},
				}},
				{Application: "orders", Outcome: railyard.OutcomeSkipped, From: ptr(3), To: ptr(3), SkipReason: railyard.SkipAlreadyCurrent},
				{Application: "search", Team: "discovery", Outcome: railyard.OutcomeSkipped, To: ptr(3), SkipReason: railyard.SkipBranchRestricted,
					Detail: `it comes from branch "feature/x"; production takes only branches matching "^main$"`},
			}},
			{Environment: "jp-prod", Upstream: "staging", Applications: []*railyard.TrainApplication{
				{Application: "cart", Team: "shop", Outcome: railyard.OutcomeSkipped, From: ptr(5), SkipReason: railyard.SkipNoUpstreamVersion},
				{Application: "checkout", Team: "payments", Outcome: railyard.OutcomeQueued, From: ptr(41), To: ptr(42), Blockers: []railyard.Blocker{
					{Kind: railyard.BlockerWindow, Window: &allowTokyo, Until: atPtr(3*24*60 - 9*60 + 0), Description: "deploy window"},
				}},
				{Application: "search", Team: "discovery", Outcome: railyard.OutcomeSkipped, To: ptr(3), SkipReason: railyard.SkipNoManifestsForTarget},
			}},
		}}
	// What the engine says: the whole summary would not fit in 100
	// characters, so it leaves out the members and the skipped one.
	tr.Description = "Release train to environment group prod from staging: 1 deployed, 2 queued, 4 skipped"
	if dryRun {
		tr.Description = "Prognosis: release train to environment group prod from staging: 1 to deploy, 2 to queue, 4 to skip"
	}
	return tr
}

// fixtureLatestTrain is a train into a latest environment that found no
// application.
func fixtureLatestTrain() *railyard.TrainResult {
	return &railyard.TrainResult{Environment: "development", Team: "shop",
		Environments: []*railyard.TrainEnvironment{{Environment: "development", Upstream: railyard.UpstreamLatest, Applications: []*railyard.TrainApplication{}}},
		Description:  "Release train for team shop to development from the latest releases: 0 deployed, 0 queued, 0 skipped"}
}

// fixturePromotion is a promotion queued behind a lock and a window.
func fixturePromotion() *railyard.TrainResult {
	tr := fixtureTrain(false)
	app := tr.Environments[1].Applications[1]
	return &railyard.TrainResult{Environment: "production", Application: "checkout", Queued: 1,
		Environments: []*railyard.TrainEnvironment{{Environment: "production", Upstream: "staging", Applications: []*railyard.TrainApplication{app}}},
		Description:  `Promote checkout 42 to production from staging: queued (blocked by team lock "q4", deny window "0 9 * * 1-5")`}
}

// table renders with the tab writer the commands use.
func table(write func(w io.Writer)) string {
	var b bytes.Buffer
	tw := newTabWriter(&b)
	write(tw)
	_ = tw.Flush()
	return b.String()
}

func TestTables(t *testing.T) {
	t.Parallel()
	envs := fixtureEnvironments()
	tests := []struct {
		name  string
		write func(w io.Writer)
	}{
		{"status", func(w io.Writer) { writeStatusTable(w, fixtureApplication(), envs) }},
		{"overview", func(w io.Writer) { writeOverviewTable(w, fixtureOverview()) }},
		{"app_get", func(w io.Writer) { writeApplication(w, fixtureApplication()) }},
		{"app_list", func(w io.Writer) {
			writeApplicationsTable(w, []*railyard.Application{{Name: "cart", CreatedAt: at(0)}, {Name: "checkout", Team: "payments", CreatedAt: at(1)}})
		}},
		{"app_list_empty", func(w io.Writer) { writeApplicationsTable(w, nil) }},
		{"env_list", func(w io.Writer) { writeEnvironmentsTable(w, envs) }},
		{"env_get", func(w io.Writer) { writeEnvironment(w, envs[1], nil, testNow) }},
		{"env_get_windows", func(w io.Writer) { writeEnvironment(w, fixtureWindowedEnvironment(), fixtureWindowState(), testNow) }},
		{"train", func(w io.Writer) {
			writeTrainResult(w, &railyard.Result{Train: fixtureTrain(false), Event: &railyard.Event{ID: 12}}, testNow)
		}},
		{"train_dry_run", func(w io.Writer) { writeTrainResult(w, &railyard.Result{Train: fixtureTrain(true)}, testNow) }},
		{"train_latest_empty", func(w io.Writer) { writeTrainResult(w, &railyard.Result{Train: fixtureLatestTrain()}, testNow) }},
		{"promote_queued", func(w io.Writer) {
			writePromoteResult(w, &railyard.Result{Train: fixturePromotion(), Event: &railyard.Event{ID: 13}}, testNow)
		}},
		{"lock_list", func(w io.Writer) { writeLocksTable(w, fixtureLocks()) }},
		{"lock_list_empty", func(w io.Writer) { writeLocksTable(w, []*railyard.Lock{}) }},
		{"history", func(w io.Writer) { writeEventsTable(w, fixtureEvents()) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			golden.Equal(t, "testdata/table_"+tt.name+".golden", table(tt.write))
		})
	}
}

func TestWriteYAML(t *testing.T) {
	t.Parallel()
	var b bytes.Buffer
	if err := writeYAML(&b, fixtureLocks()[:1]); err != nil {
		t.Fatal(err)
	}
	golden.Equal(t, "testdata/yaml_locks.golden", b.String())
}

func TestWriteYAMLQuotesAmbiguousStrings(t *testing.T) {
	t.Parallel()
	var b bytes.Buffer
	v := map[string]any{"commit": "1234567", "flag": "true", "empty": "", "number": 7, "null": nil, "list": []string{"a"}}
	if err := writeYAML(&b, v); err != nil {
		t.Fatal(err)
	}
	want := "commit: \"1234567\"\nempty: \"\"\nflag: \"true\"\nlist:\n  - a\n\"null\": null\nnumber: 7\n"
	equal(t, "YAML", b.String(), want)
}

func TestDescribeResults(t *testing.T) {
	t.Parallel()
	lock := fixtureLocks()[0]
	blocker := []railyard.Blocker{{Kind: railyard.LockEnvironment, Lock: lock, Description: "environment lock \"freeze\" on production by Bob: Black Friday"}}
	rel := &railyard.Release{Application: "checkout", Version: 3, DisplayVersion: "1.5.0"}
	tests := []struct {
		name, got, want string
	}{
		{"release created", describeReleaseResult(&railyard.Result{Outcome: railyard.OutcomeCreated, Release: rel, Event: &railyard.Event{Changes: []railyard.Change{
			{Op: railyard.ChangeReleaseCreate}, {Op: railyard.ChangeDeploy, Environment: "development"}, {Op: railyard.ChangeQueue, Environment: "production", Blockers: blocker},
		}}}), `created release checkout 3 (1.5.0); deployed to development; queued in production (blocked by environment lock "freeze")`},
		{"release unchanged", describeReleaseResult(&railyard.Result{Outcome: railyard.OutcomeUnchanged, Release: rel}), "release checkout 3 (1.5.0) already exists (identical)"},
		{"undeploy", describeReleaseResult(&railyard.Result{Outcome: railyard.OutcomeCreated, Release: &railyard.Release{Application: "cart", Version: 9, Undeploy: true}}), "created undeploy release cart 9"},
		{"deploy", describeDeployResult(railyard.Deploy{Application: "checkout", Version: 3, Environment: "production"}, &railyard.Result{Outcome: railyard.OutcomeDeployed,
			Event: &railyard.Event{Changes: []railyard.Change{{Op: railyard.ChangeDeploy, PreviousVersion: 2, Blockers: blocker}, {Op: railyard.ChangeUnqueue, Version: 3}}}}),
			`deployed checkout 3 to production (was 2; overriding environment lock "freeze"; queued version 3 dropped)`},
		{"deploy unchanged", describeDeployResult(railyard.Deploy{Application: "checkout", Version: 3, Environment: "production"}, &railyard.Result{Outcome: railyard.OutcomeUnchanged}),
			"checkout 3 already runs in production"},
		{"deploy queued", describeDeployResult(railyard.Deploy{Application: "checkout", Version: 3, Environment: "production"}, &railyard.Result{Outcome: railyard.OutcomeQueued,
			Deployment: &railyard.Deployment{QueuedBecause: blocker}}),
			`queued checkout 3 in production (blocked by environment lock "freeze"); it is deployed when the last lock is gone`},
		{"group lock", describeLockCreated(railyard.CreateLock{LockTarget: railyard.LockTarget{Kind: railyard.LockGroup, Group: "prod", ID: "freeze"}, ExpiresAt: atPtr(60)},
			&railyard.Result{Locks: []*railyard.Lock{{LockTarget: railyard.LockTarget{Environment: "de-prod"}}, {LockTarget: railyard.LockTarget{Environment: "jp-prod"}}}}),
			`created environment lock "freeze" on de-prod, jp-prod (group prod), expires 2025-11-21 10:00:00 UTC`},
		{"rollback", describeRollbackResult(railyard.Rollback{Application: "checkout", Environment: "production"}, &railyard.Result{Outcome: railyard.OutcomeDeployed,
			Release: &railyard.Release{Version: 41}, Event: &railyard.Event{Changes: []railyard.Change{{Op: railyard.ChangeDeploy, Version: 41, PreviousVersion: 42}}}}),
			"rolled back checkout in production to 41 (was 42)"},
		{"rollback unchanged", describeRollbackResult(railyard.Rollback{Application: "checkout", Environment: "production", Version: 41}, &railyard.Result{Outcome: railyard.OutcomeUnchanged}),
			"checkout 41 already runs in production"},
		{"rollback queued behind a window", describeRollbackResult(railyard.Rollback{Application: "checkout", Environment: "production"}, &railyard.Result{Outcome: railyard.OutcomeQueued,
			Release: &railyard.Release{Version: 41}, Deployment: &railyard.Deployment{QueuedBecause: []railyard.Blocker{{Kind: railyard.BlockerWindow, Window: &denyBerlin, Until: atPtr(7 * 60)}}}}),
			`queued rollback of checkout to 41 in production (blocked by deploy window deny "0 9 * * 1-5" 8h Europe/Berlin); it is deployed when nothing blocks it any more (the deploy window allows it at 2025-11-21 16:00:00 UTC)`},
		{"window blocker today", blockerShort(railyard.Blocker{Kind: railyard.BlockerWindow, Window: &denyBerlin, Until: atPtr(7 * 60)}, testNow),
			`deploy window deny "0 9 * * 1-5" 8h Europe/Berlin (until 17:00)`},
		{"allow window blocker another day", blockerShort(railyard.Blocker{Kind: railyard.BlockerWindow, Window: &allowTokyo, Until: atPtr(3*24*60 - 9*60)}, testNow),
			`deploy window allow "0 9 * * 1-5" 9h Asia/Tokyo closed (until 2025-11-24 09:00)`},
		{"window blocker in UTC, no until", blockerShort(railyard.Blocker{Kind: railyard.BlockerWindow, Window: &railyard.DeployWindow{Kind: "deny", Schedule: "@daily", Duration: "1h"}}, testNow),
			`deploy window deny "@daily" 1h UTC`},
		{"lock blocker", blockerShort(railyard.Blocker{Kind: railyard.LockEnvironment, Lock: lock}, testNow), `environment lock "freeze" by Bob`},
		{"team unlock", describeLockDeleted(railyard.DeleteLock{LockTarget: railyard.LockTarget{Kind: railyard.LockTeam, Environment: "staging", Team: "payments", ID: "q4"}},
			&railyard.Result{Event: &railyard.Event{Changes: []railyard.Change{{Op: railyard.ChangeLockDelete, Environment: "staging"},
				{Op: railyard.ChangeDeploy, Application: "checkout", Version: 3, Environment: "staging"}}}}),
			`deleted team lock "q4" on team payments in staging; deployed queued checkout 3 to staging`},
	}
	for _, tt := range tests {
		equal(t, tt.name, tt.got, tt.want)
	}
}
