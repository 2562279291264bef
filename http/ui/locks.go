package ui

import (
	"net/http"
	"slices"

	railyard "github.com/railyard-cd/railyard"
)

// locksView is the data of the locks page.
type locksView struct {
	*page
	// Kind, Env, App and Team are the filters from the URL.
	Kind, Env, App, Team string
	Envs                 []string
	Locks                lockTable
	Total                int
}

// handleLocks renders GET /locks: every lock, filtered by kind,
// environment, application and team.
func (h *Handler) handleLocks(w http.ResponseWriter, r *http.Request, p *page) error {
	ctx := r.Context()
	if err := h.loadCommon(r, p); err != nil {
		return err
	}
	q := r.URL.Query()
	v := &locksView{page: p, Kind: q.Get("kind"), Env: q.Get("env"), App: q.Get("app"), Team: q.Get("team")}
	envs, err := h.engine.FindEnvironments(ctx)
	if err != nil {
		return err
	}
	for _, e := range envs {
		v.Envs = append(v.Envs, e.Name)
	}
	all, err := h.engine.FindLocks(ctx, railyard.LockFilter{})
	if err != nil {
		return err
	}
	v.Total = len(all)
	locks := slices.DeleteFunc(all, func(l *railyard.Lock) bool { return !v.matches(l) })
	p.Title, p.Nav = "Locks", "locks"
	v.Locks = newLockTable(p, locks, p.Path)
	v.Locks.ShowEnv, v.Locks.Caption = true, "Locks"
	v.Locks.Empty = "No locks."
	if v.Total > 0 {
		v.Locks.Empty = "No lock matches the filter."
	}
	return h.render(w, r, "locks", v, p)
}

// matches applies the filters. The application filter matches
// application locks only; the application page lists every lock that
// holds the application back.
func (v *locksView) matches(l *railyard.Lock) bool {
	return (v.Kind == "" || string(l.Kind) == v.Kind) &&
		(v.Env == "" || l.Environment == v.Env) &&
		(v.App == "" || l.Application == v.App) &&
		(v.Team == "" || l.Team == v.Team)
}
