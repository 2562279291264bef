package ui

import (
	"context"
	"net/http"
	"slices"
	"time"

	railyard "github.com/railyard-cd/railyard"
)

// applicationView is the data of an application's page.
type applicationView struct {
	*page
	App      *railyard.ApplicationDetail
	Envs     []*appEnvView
	Releases []*releaseView
	// Blocked is set when a deploy or rollback was refused because of
	// locks or windows: the page then offers to do it anyway.
	Blocked *blockedView
	// Form is a form sent back because of invalid input.
	Form *formState
}

// appEnvView is the application in one environment.
type appEnvView struct {
	Name, Group, Upstream string
	Dep                   railyard.Deployment
	Running, Queued       string
	QueuedBecause         []string
	Locks                 lockTable
	History               []*railyard.Event
	// RollbackTo labels the version a rollback deploys; RollbackNote says
	// why there is none.
	RollbackTo, RollbackNote string
	// PromoteFrom is the environment a promotion takes the version from
	// ("every new release" for a latest environment); "" if none.
	PromoteFrom string
	// FormID names the lock form of this environment.
	FormID string
}

// releaseView is one release in the releases table.
type releaseView struct {
	*railyard.Release
	Label    string
	RunsIn   []string
	QueuedIn []string
	// Targets are the environments it can be deployed to, in pipeline order.
	Targets []string
}

// handleApplication renders GET /apps/{app}.
func (h *Handler) handleApplication(w http.ResponseWriter, r *http.Request, p *page) error {
	return h.renderApplication(w, r, p, r.PathValue("app"), nil, nil)
}

// renderApplication renders the application page, with a form sent back
// or a blocked deploy if given.
func (h *Handler) renderApplication(w http.ResponseWriter, r *http.Request, p *page, name string, form *formState, blocked *blockedView) error {
	ctx := r.Context()
	if err := h.loadCommon(r, p); err != nil {
		return err
	}
	d, err := h.engine.FindApplication(ctx, name)
	if railyard.ErrorCode(err) == railyard.EINVALID {
		return railyard.Errorf(railyard.ENOTFOUND, "There is no application %q", name)
	}
	if err != nil {
		return err
	}
	envs, err := h.engine.FindEnvironments(ctx)
	if err != nil {
		return err
	}
	p.Title, p.Canonical = d.Name, "/apps/"+d.Name
	v := &applicationView{page: p, App: d, Blocked: blocked, Form: form}
	labels := make(map[int64]string, len(d.Releases))
	for _, rel := range d.Releases {
		labels[rel.Version] = railyard.VersionLabel(rel.Version, rel.DisplayVersion)
	}
	for _, env := range envs {
		ev, err := h.appEnv(ctx, p, d, env, labels)
		if err != nil {
			return err
		}
		v.Envs = append(v.Envs, ev)
	}
	v.Releases = releaseViews(d, envs, labels)
	return h.render(w, r, "application", v, p)
}

// appEnv builds the card of one environment.
func (h *Handler) appEnv(ctx context.Context, p *page, d *railyard.ApplicationDetail, env *railyard.Environment, labels map[int64]string) (*appEnvView, error) {
	ae := d.Environments[env.Name]
	ev := &appEnvView{Name: env.Name, Group: env.Config.EnvironmentGroup, Upstream: upstreamLabel(env), FormID: "lock-" + env.Name}
	if ae == nil {
		ae = &railyard.ApplicationEnvironment{}
	}
	ev.Dep = ae.Deployment
	if v := ae.Version; v != nil {
		ev.Running = label(labels, *v)
	}
	if v := ae.QueuedVersion; v != nil {
		ev.Queued = label(labels, *v)
		for _, b := range ae.QueuedBecause {
			ev.QueuedBecause = append(ev.QueuedBecause, b.Description)
		}
	}
	ev.Locks = newLockTable(p, ae.Locks, "/apps/"+d.Name+"#env-"+env.Name)
	ev.Locks.Caption, ev.Locks.Empty = "Locks holding "+d.Name+" back in "+env.Name, "No locks."
	history, err := h.engine.FindEvents(ctx, railyard.EventFilter{Application: d.Name, Environment: env.Name, Limit: 5})
	if err != nil {
		return nil, err
	}
	ev.History = history
	if ae.Version != nil {
		to, err := h.engine.RollbackVersion(ctx, d.Name, env.Name)
		switch {
		case err == nil:
			ev.RollbackTo = label(labels, to)
		case railyard.ErrorCode(err) == railyard.EINVALID:
			ev.RollbackNote = "no earlier version ran here."
		case railyard.ErrorCode(err) == railyard.ENOTFOUND:
			ev.RollbackNote = railyard.ErrorMessage(err)
		default:
			return nil, err
		}
	}
	switch {
	case env.IsLatest():
		ev.PromoteFrom = "the newest release"
	case env.UpstreamEnvironment() != "":
		ev.PromoteFrom = env.UpstreamEnvironment()
		if up := d.Environments[env.UpstreamEnvironment()]; up != nil && up.Version != nil {
			ev.PromoteFrom += " (" + label(labels, *up.Version) + ")"
		}
	}
	return ev, nil
}

// label is the version label of v; the number alone for a release
// cleaned up.
func label(labels map[int64]string, v int64) string {
	if l, ok := labels[v]; ok {
		return l
	}
	return railyard.VersionLabel(v, "")
}

// releaseViews lists the releases with where each runs now.
func releaseViews(d *railyard.ApplicationDetail, envs []*railyard.Environment, labels map[int64]string) []*releaseView {
	out := make([]*releaseView, 0, len(d.Releases))
	for _, rel := range d.Releases {
		rv := &releaseView{Release: rel, Label: labels[rel.Version]}
		for _, env := range envs {
			ae := d.Environments[env.Name]
			if ae != nil && ae.Version != nil && *ae.Version == rel.Version {
				rv.RunsIn = append(rv.RunsIn, env.Name)
			}
			if ae != nil && ae.QueuedVersion != nil && *ae.QueuedVersion == rel.Version {
				rv.QueuedIn = append(rv.QueuedIn, env.Name)
			}
			if slices.Contains(rel.Environments, env.Name) {
				rv.Targets = append(rv.Targets, env.Name)
			}
		}
		out = append(out, rv)
	}
	return out
}

// lockTable is the data of the "lock-table" template.
type lockTable struct {
	Locks          []lockRow
	Caption, Empty string
	// Next is where a delete returns to.
	Next    string
	CSRF    string
	ShowEnv bool
	Now     time.Time
}

// lockRow is a lock in a table; Stale is set for an expired lock that
// Railyard has not removed yet.
type lockRow struct {
	*railyard.Lock
	Stale bool
}

// newLockTable prepares locks for the "lock-table" template.
func newLockTable(p *page, locks []*railyard.Lock, next string) lockTable {
	t := lockTable{Next: next, CSRF: p.CSRF, Now: p.Now}
	for _, l := range locks {
		t.Locks = append(t.Locks, lockRow{Lock: l, Stale: l.Expired(p.Now)})
	}
	return t
}
