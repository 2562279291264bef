package storetest

import (
	"encoding/json"
	"time"

	"github.com/railyard-cd/railyard"
)

// The fixtures set every field, so that a store dropping one fails a round
// trip. Each call returns new values the test may change.

func fullEnvironment(name string) *railyard.Environment {
	return &railyard.Environment{
		Name: name,
		Config: railyard.EnvironmentConfig{
			Upstream:         &railyard.Upstream{Latest: true, Branch: "^main$"},
			EnvironmentGroup: "production-group",
			ArgoCD: &railyard.ArgoCDConfig{
				Layout: railyard.ArgoCDLayoutSingleFile,
				Destination: railyard.ArgoCDDestination{
					Name: "in-cluster", Server: "https://kubernetes.default.svc", Namespace: "apps-" + name,
					AppProjectNamespace: "argocd", ApplicationNamespace: "argocd-apps",
				},
				SyncWindows: []railyard.ArgoCDSyncWindow{
					{Kind: "deny", Schedule: "0 22 * * *", Duration: "8h", Applications: []string{"*"}},
				},
				AccessList: []railyard.ArgoCDAccessEntry{{Group: "apps", Kind: "Deployment"}},
				IgnoreDifferences: []railyard.ArgoCDIgnoreDifference{{
					Group: "apps", Kind: "Deployment", Name: "web", Namespace: "default",
					JSONPointers: []string{"/spec/replicas"}, JQPathExpressions: []string{".spec.template"},
					ManagedFieldsManagers: []string{"kube-controller-manager"},
				}},
				ApplicationAnnotations: map[string]string{"notifications.argoproj.io/subscribe": "slack:deploys"},
				SyncOptions:            []string{"CreateNamespace=true"},
			},
			DeployWindows: []railyard.DeployWindow{
				{Kind: railyard.DeployWindowAllow, Schedule: "0 8 * * 1-5", Duration: "10h", TimeZone: "Europe/Berlin"},
			},
			BranchRestriction: "^(main|release/.*)$",
		},
		CreatedAt: t0,
		UpdatedAt: at(time.Hour),
	}
}

func fullApplication(name string) *railyard.Application {
	return &railyard.Application{Name: name, Team: "payments", CreatedAt: t0}
}

// fullRelease returns a release with manifests for dev, staging and
// production; Environments is what the store must return.
func fullRelease(app string, version int64) *railyard.Release {
	return &railyard.Release{
		Application: app,
		Version:     version,
		Manifests: map[string]string{
			"staging":    "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: " + app + "-staging\n",
			"dev":        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: " + app + "-dev\n",
			"production": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: " + app + "-production\n---\nkind: Service\n",
		},
		Environments:   []string{"dev", "production", "staging"},
		Team:           "payments",
		SourceCommitID: "0123456789abcdef0123456789abcdef01234567",
		SourceAuthor:   "Ada Lovelace <ada@example.com>",
		SourceMessage:  "Fix rounding of totals\n\nCloses #42. Ünïcödé, 'quotes' and \"double quotes\".",
		SourceBranch:   "main",
		DisplayVersion: "1.2.3",
		CILink:         "https://ci.example.com/builds/42",
		Undeploy:       false,
		CreatedAt:      at(time.Duration(version) * time.Minute),
	}
}

// withoutManifests returns a copy of r as FindRelease returns it when
// manifests are not asked for.
func withoutManifests(r *railyard.Release) *railyard.Release {
	c := *r
	c.Manifests = nil
	return &c
}

func fullLock(kind railyard.LockKind, env, id string) *railyard.Lock {
	l := &railyard.Lock{
		LockTarget: railyard.LockTarget{Kind: kind, Environment: env, ID: id},
		Message:    "Black Friday: no changes, please",
		CreatedBy:  railyard.Actor{Name: "Alice", Email: "alice@example.com"},
		CreatedAt:  t0,
		CILink:     "https://ci.example.com/locks/1",
		ExpiresAt:  ptr(at(48 * time.Hour)),
	}
	switch kind {
	case railyard.LockApplication:
		l.Application = "checkout"
	case railyard.LockTeam:
		l.Team = "payments"
	}
	return l
}

func fullDeployment(app, env string) *railyard.Deployment {
	return &railyard.Deployment{
		Application:   app,
		Environment:   env,
		Version:       ptr(int64(3)),
		DeployedAt:    ptr(at(time.Minute)),
		DeployedBy:    &railyard.Actor{Name: "Bob", Email: "bob@example.com"},
		QueuedVersion: ptr(int64(4)),
		QueuedAt:      ptr(at(2 * time.Minute)),
		QueuedBecause: []railyard.Blocker{{
			Kind:        railyard.LockEnvironment,
			Lock:        fullLock(railyard.LockEnvironment, env, "freeze"),
			Description: `environment lock "freeze" on ` + env + ` by Alice: Black Friday`,
		}},
	}
}

// fullEvent returns an event whose changes use every Change field.
func fullEvent(kind string, when time.Time, actor railyard.Actor, refs ...railyard.EventRef) *railyard.Event {
	rel := fullRelease("checkout", 7)
	env := fullEnvironment("production")
	lock := fullLock(railyard.LockApplication, "production", "hotfix")
	return &railyard.Event{
		Time:        when,
		Actor:       actor,
		Kind:        kind,
		Description: "Release checkout 1.2.3, deploy to dev",
		Payload:     json.RawMessage(`{"application":"checkout","version":7,"manifests":{"dev":"a: 1"}}`),
		Changes: []railyard.Change{
			{Op: railyard.ChangeApplicationPut, Application: "checkout", Team: "payments"},
			{Op: railyard.ChangeReleaseCreate, Application: "checkout", Version: 7, Release: rel, SourceCommitID: rel.SourceCommitID},
			{Op: railyard.ChangeEnvironmentPut, Environment: "production", Config: &env.Config},
			{Op: railyard.ChangeLockPut, Environment: "production", Application: "checkout", Lock: lock},
			{
				Op: railyard.ChangeQueue, Environment: "production", Application: "checkout", Version: 7,
				PreviousVersion: 6, Reason: "new release", SourceCommitID: rel.SourceCommitID,
				Blockers: []railyard.Blocker{{Kind: railyard.LockApplication, Lock: lock, Description: "application lock"}},
			},
		},
		Refs: refs,
	}
}
