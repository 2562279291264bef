package railyard

import (
	"context"
	"slices"
	"strings"
	"sync"
	"time"
)

// The overview is every application in every environment: 300,000 cells
// at 6,000 applications in 50 environments. Reading them from the store
// costs about 300 ms of CPU at 5,000 × 20 and a second at 6,000 × 50
// (BENCHMARKS.md, "Overview at scale"), so the engine keeps the last
// overview it built, tagged with the id of the newest event it reflects,
// and brings it up to date from the events committed since: only the
// applications those events touched are read again. Every state change is
// recorded as a Change of an event (see Event), which is what makes the
// event id a complete version of the state.

// maxOverviewPatchEvents bounds how many events an overview is patched
// with; further behind, a full read is as cheap and simpler.
const maxOverviewPatchEvents = 256

// overviewCache is the engine's last overview.
type overviewCache struct {
	mu   sync.Mutex
	snap *overviewSnapshot
}

// overviewSnapshot is an overview and what it was built from. It is
// immutable once stored: patching builds a new one that shares the
// unchanged rows.
type overviewSnapshot struct {
	ov *Overview
	// eventID is the newest event the overview reflects.
	eventID int64
	// locks are every stored lock, expired ones included, and expired
	// which of them had expired when the cells' locks were computed.
	locks   []*Lock
	expired []bool
	// apps are the applications of the rows, in the same order.
	apps []*Application
}

// Overview returns every application in every environment, as of one
// store transaction. The result is shared with other callers (it is the
// engine's cached snapshot, or shares rows with it): callers must not
// modify it.
func (e *Engine) Overview(ctx context.Context) (*Overview, error) {
	var snap *overviewSnapshot
	err := e.store.View(ctx, func(tx Tx) (err error) {
		snap, err = e.overviewSnapshot(ctx, tx, e.now())
		return err
	})
	if err != nil {
		return nil, err
	}
	return snap.ov, nil
}

// overviewSnapshot returns the overview as of tx at now: the cached one
// if nothing changed, patched if a few events were committed since, read
// in full otherwise.
func (e *Engine) overviewSnapshot(ctx context.Context, tx Tx, now time.Time) (*overviewSnapshot, error) {
	id, err := tx.LastEventID(ctx)
	if err != nil {
		return nil, err
	}
	c := &e.overview
	c.mu.Lock()
	prev := c.snap
	c.mu.Unlock()
	var snap *overviewSnapshot
	switch {
	case prev != nil && prev.eventID == id && !prev.expiryChanged(prev.locks, now):
		return prev, nil
	case prev != nil && prev.eventID < id && id-prev.eventID <= maxOverviewPatchEvents:
		snap, err = patchOverview(ctx, tx, prev, id, now)
	}
	if err != nil {
		return nil, err
	}
	if snap == nil {
		if snap, err = readOverview(ctx, tx, id, now); err != nil {
			return nil, err
		}
	}
	c.mu.Lock()
	// A concurrent reader may have stored a newer one meanwhile.
	if c.snap == nil || c.snap.eventID <= snap.eventID {
		c.snap = snap
	}
	c.mu.Unlock()
	return snap, nil
}

// readOverview reads the whole overview from the store.
func readOverview(ctx context.Context, tx Tx, id int64, now time.Time) (*overviewSnapshot, error) {
	envs, err := tx.FindEnvironments(ctx)
	if err != nil {
		return nil, err
	}
	apps, err := tx.FindApplications(ctx)
	if err != nil {
		return nil, err
	}
	deps, err := tx.FindDeployments(ctx, DeploymentFilter{})
	if err != nil {
		return nil, err
	}
	locks, err := tx.FindLocks(ctx, LockFilter{})
	if err != nil {
		return nil, err
	}
	SortEnvironments(envs)
	ov := buildOverview(envs, apps, deps, locks, now)
	return &overviewSnapshot{ov: ov, eventID: id, locks: locks, expired: expiredFlags(locks, now), apps: apps}, nil
}

// buildOverview joins the four lists in memory: one pass over each.
func buildOverview(envs []*Environment, apps []*Application, deps []*Deployment, locks []*Lock, now time.Time) *Overview {
	idx := newOverviewLocks(envs, locks, now)
	byApp := make(map[string][]*Deployment, len(apps))
	for _, d := range deps {
		byApp[d.Application] = append(byApp[d.Application], d)
	}
	ov := &Overview{Environments: envs, Applications: make([]*OverviewApplication, 0, len(apps))}
	for _, app := range apps {
		ov.Applications = append(ov.Applications, idx.row(app, envs, byApp[app.Name]))
	}
	return ov
}

// overviewLocks indexes the unexpired locks by environment, for the cells.
type overviewLocks map[string]*envLocks

// envLocks are the unexpired locks of one environment.
type envLocks struct {
	env  []*Lock
	app  map[string][]*Lock
	team map[string][]*Lock
}

func newOverviewLocks(envs []*Environment, locks []*Lock, now time.Time) overviewLocks {
	idx := make(overviewLocks, len(envs))
	for _, env := range envs {
		idx[env.Name] = &envLocks{app: map[string][]*Lock{}, team: map[string][]*Lock{}}
	}
	for _, l := range locks {
		el := idx[l.Environment]
		if el == nil || l.Expired(now) {
			continue
		}
		switch l.Kind {
		case LockEnvironment:
			el.env = append(el.env, l)
		case LockApplication:
			el.app[l.Application] = append(el.app[l.Application], l)
		case LockTeam:
			el.team[l.Team] = append(el.team[l.Team], l)
		}
	}
	return idx
}

// row builds the row of app from its deployments.
func (idx overviewLocks) row(app *Application, envs []*Environment, deps []*Deployment) *OverviewApplication {
	row := &OverviewApplication{Name: app.Name, Team: app.Team, Environments: make(map[string]*OverviewCell, len(envs))}
	cells := make([]OverviewCell, len(envs))
	for i, env := range envs {
		cells[i].Locks = idx.cellLocks(env.Name, app)
		row.Environments[env.Name] = &cells[i]
	}
	for _, d := range deps {
		if cell := row.Environments[d.Environment]; cell != nil {
			cell.Version, cell.QueuedVersion, cell.DeployedAt = d.Version, d.QueuedVersion, d.DeployedAt
		}
	}
	return row
}

// relock returns row with the locks of idx, sharing its deployments.
func (idx overviewLocks) relock(row *OverviewApplication, app *Application, envs []*Environment) *OverviewApplication {
	n := &OverviewApplication{Name: row.Name, Team: row.Team, Environments: make(map[string]*OverviewCell, len(envs))}
	cells := make([]OverviewCell, len(envs))
	for i, env := range envs {
		cells[i] = *row.Environments[env.Name]
		cells[i].Locks = idx.cellLocks(env.Name, app)
		n.Environments[env.Name] = &cells[i]
	}
	return n
}

// cellLocks are the locks holding app back in env: environment locks,
// then its application locks, then its team's.
func (idx overviewLocks) cellLocks(env string, app *Application) []*Lock {
	el := idx[env]
	appLocks, teamLocks := el.app[app.Name], []*Lock(nil)
	if app.Team != "" {
		teamLocks = el.team[app.Team]
	}
	if len(appLocks) == 0 && len(teamLocks) == 0 && len(el.env) > 0 {
		// Shared by every cell of the environment: nothing modifies it.
		return el.env[:len(el.env):len(el.env)]
	}
	locks := make([]*Lock, 0, len(el.env)+len(appLocks)+len(teamLocks))
	locks = append(locks, el.env...)
	locks = append(locks, appLocks...)
	return append(locks, teamLocks...)
}

// expiredFlags says which locks have expired at now.
func expiredFlags(locks []*Lock, now time.Time) []bool {
	flags := make([]bool, len(locks))
	for i, l := range locks {
		flags[i] = l.Expired(now)
	}
	return flags
}

// expiryChanged reports whether one of locks (the snapshot's own) has
// expired, or come back with a clock set back, since the snapshot.
func (s *overviewSnapshot) expiryChanged(locks []*Lock, now time.Time) bool {
	for i, l := range locks {
		if l.Expired(now) != s.expired[i] {
			return true
		}
	}
	return false
}

// overviewDelta is what the events after a snapshot changed.
type overviewDelta struct {
	// full: an environment changed, so every column may have.
	full  bool
	locks bool
	apps  map[string]bool
}

// deltaOf collects what events changed.
func deltaOf(events []*Event) overviewDelta {
	d := overviewDelta{apps: map[string]bool{}}
	for _, ev := range events {
		for _, ch := range ev.Changes {
			switch ch.Op {
			case ChangeEnvironmentPut, ChangeEnvironmentDelete:
				d.full = true
			case ChangeLockPut, ChangeLockDelete:
				d.locks = true
			case ChangeReleaseCreate, ChangeReleaseDelete:
				// Releases are not in the overview; a new application
				// comes with its own application.put.
			default:
				// An operation this code does not know to be about
				// one application: read everything.
				d.full = d.full || ch.Application == ""
				d.apps[ch.Application] = true
			}
		}
	}
	return d
}

// patchOverview brings prev up to event id: it reads the events since,
// then only the applications they touched and the locks; nil if a full
// read is needed.
func patchOverview(ctx context.Context, tx Tx, prev *overviewSnapshot, id int64, now time.Time) (*overviewSnapshot, error) {
	events, err := tx.FindEvents(ctx, EventFilter{AfterID: prev.eventID, Ascending: true, Limit: maxOverviewPatchEvents + 1})
	if err != nil {
		return nil, err
	}
	if len(events) == 0 || len(events) > maxOverviewPatchEvents || events[len(events)-1].ID != id {
		return nil, nil
	}
	delta := deltaOf(events)
	if delta.full || len(delta.apps) > len(prev.apps)/8+8 {
		return nil, nil
	}
	locks := prev.locks
	if delta.locks {
		if locks, err = tx.FindLocks(ctx, LockFilter{}); err != nil {
			return nil, err
		}
	}
	relockAll := delta.locks || prev.expiryChanged(prev.locks, now)
	envs := prev.ov.Environments
	idx := newOverviewLocks(envs, locks, now)
	apps, rows := prev.apps, prev.ov.Applications
	if len(delta.apps) > 0 {
		if apps, rows, err = patchRows(ctx, tx, prev, delta.apps, idx); err != nil {
			return nil, err
		}
	}
	if relockAll {
		fresh := make([]*OverviewApplication, len(rows))
		for i, row := range rows {
			fresh[i] = idx.relock(row, apps[i], envs)
		}
		rows = fresh
	}
	ov := &Overview{Environments: envs, Applications: rows}
	return &overviewSnapshot{ov: ov, eventID: id, locks: locks, expired: expiredFlags(locks, now), apps: apps}, nil
}

// patchRows reads the touched applications again and returns the new
// lists of applications and rows, in name order.
func patchRows(ctx context.Context, tx Tx, prev *overviewSnapshot, touched map[string]bool, idx overviewLocks) ([]*Application, []*OverviewApplication, error) {
	fresh := map[string]*OverviewApplication{}
	freshApps := map[string]*Application{}
	for name := range touched {
		app, err := tx.FindApplication(ctx, name)
		if ErrorCode(err) == ENOTFOUND {
			continue
		}
		if err != nil {
			return nil, nil, err
		}
		deps, err := tx.FindDeployments(ctx, DeploymentFilter{Application: name})
		if err != nil {
			return nil, nil, err
		}
		freshApps[name] = app
		fresh[name] = idx.row(app, prev.ov.Environments, deps)
	}
	apps := make([]*Application, 0, len(prev.apps)+len(fresh))
	rows := make([]*OverviewApplication, 0, len(prev.apps)+len(fresh))
	for i, app := range prev.apps {
		if !touched[app.Name] {
			apps, rows = append(apps, app), append(rows, prev.ov.Applications[i])
		}
	}
	for name, row := range fresh {
		at, _ := slices.BinarySearchFunc(apps, name, func(a *Application, n string) int { return strings.Compare(a.Name, n) })
		apps, rows = slices.Insert(apps, at, freshApps[name]), slices.Insert(rows, at, row)
	}
	return apps, rows, nil
}
