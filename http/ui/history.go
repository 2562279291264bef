package ui

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"time"

	railyard "github.com/railyard-cd/railyard"
)

// historyPageSize is how many events the history page shows at once.
const historyPageSize = 100

// historyView is the data of the history page.
type historyView struct {
	*page
	// The filters, as typed.
	App, Env, ActorFilter, Kind, Since, Until, Commit string
	Kinds                                             []string
	Events                                            []*railyard.Event
	// Older links to the next page, "" on the last one.
	Older  string
	Errors map[string]string
	// Where answers "where is this source commit deployed?".
	Where []whereRow
}

// whereRow is one application and environment running or queueing a
// release of the commit asked for.
type whereRow struct {
	App, Env, Version, State string
}

// historyTimeLayout is the format of datetime-local inputs; times are UTC.
const historyTimeLayout = "2006-01-02T15:04"

// handleHistory renders GET /history: the event log with filters, and
// where a source commit is deployed.
func (h *Handler) handleHistory(w http.ResponseWriter, r *http.Request, p *page) error {
	if err := h.loadCommon(r, p); err != nil {
		return err
	}
	q := r.URL.Query()
	v := &historyView{page: p, App: strings.TrimSpace(q.Get("app")), Env: strings.TrimSpace(q.Get("env")),
		ActorFilter: strings.TrimSpace(q.Get("actor")), Kind: q.Get("kind"), Since: q.Get("since"), Until: q.Get("until"),
		Commit: strings.TrimSpace(q.Get("commit")), Kinds: railyard.EventKinds(), Errors: map[string]string{}}
	p.Title, p.Nav = "History", "history"
	filter := v.filter(q.Get("before"))
	if len(v.Errors) > 0 {
		p.Status = http.StatusBadRequest
		return h.render(w, r, "history", v, p)
	}
	events, err := h.engine.FindEvents(r.Context(), filter)
	if railyard.ErrorCode(err) == railyard.EINVALID {
		v.Errors["commit"] = railyard.ErrorMessage(err)
		p.Status = http.StatusBadRequest
		return h.render(w, r, "history", v, p)
	}
	if err != nil {
		return err
	}
	v.Events = events
	if len(events) == historyPageSize {
		u := *r.URL
		qq := u.Query()
		qq.Set("before", strconv.FormatInt(events[len(events)-1].ID, 10))
		u.RawQuery = qq.Encode()
		v.Older = u.RequestURI()
	}
	if v.Commit != "" {
		if v.Where, err = h.whereDeployed(r.Context(), v.Commit, events); err != nil {
			return err
		}
	}
	return h.render(w, r, "history", v, p)
}

// filter turns the form into an event filter, recording errors next to
// the fields.
func (v *historyView) filter(before string) railyard.EventFilter {
	f := railyard.EventFilter{Application: v.App, Environment: v.Env, Actor: v.ActorFilter, Kind: v.Kind,
		SourceCommitID: v.Commit, Limit: historyPageSize}
	if b, err := strconv.ParseInt(before, 10, 64); err == nil && b > 0 {
		f.BeforeID = b
	}
	for _, t := range []struct {
		field, value string
		dst          **time.Time
	}{{"since", v.Since, &f.Since}, {"until", v.Until, &f.Until}} {
		if t.value == "" {
			continue
		}
		at, err := time.ParseInLocation(historyTimeLayout, t.value, time.UTC)
		if err != nil {
			v.Errors[t.field] = "Enter a date and time such as 2026-11-02T09:30 (UTC)."
			continue
		}
		*t.dst = &at
	}
	return f
}

// maxWhereApplications bounds the applications read for one commit.
const maxWhereApplications = 50

// whereDeployed finds the applications and environments that run or
// queue a release of the source commit (a prefix), from the applications
// the commit's events name.
func (h *Handler) whereDeployed(ctx context.Context, commit string, events []*railyard.Event) ([]whereRow, error) {
	commit = strings.ToLower(commit)
	var apps []string
	seen := map[string]bool{}
	for _, e := range events {
		for _, ch := range e.Changes {
			app := ch.Application
			if ch.Release != nil {
				app = ch.Release.Application
			}
			if app != "" && !seen[app] && len(apps) < maxWhereApplications {
				seen[app] = true
				apps = append(apps, app)
			}
		}
	}
	envs, err := h.engine.FindEnvironments(ctx)
	if err != nil {
		return nil, err
	}
	var rows []whereRow
	for _, app := range apps {
		d, err := h.engine.FindApplication(ctx, app)
		if railyard.ErrorCode(err) == railyard.ENOTFOUND {
			continue
		}
		if err != nil {
			return nil, err
		}
		rows = append(rows, whereIn(d, envs, commit)...)
	}
	return rows, nil
}

// whereIn lists the environments where d runs or queues a release of commit.
func whereIn(d *railyard.ApplicationDetail, envs []*railyard.Environment, commit string) []whereRow {
	match := map[int64]string{}
	for _, rel := range d.Releases {
		if strings.HasPrefix(strings.ToLower(rel.SourceCommitID), commit) {
			match[rel.Version] = railyard.VersionLabel(rel.Version, rel.DisplayVersion)
		}
	}
	var rows []whereRow
	for _, env := range envs {
		ae := d.Environments[env.Name]
		if ae == nil {
			continue
		}
		if ae.Version != nil && match[*ae.Version] != "" {
			rows = append(rows, whereRow{App: d.Name, Env: env.Name, Version: match[*ae.Version], State: "running"})
		}
		if ae.QueuedVersion != nil && match[*ae.QueuedVersion] != "" {
			rows = append(rows, whereRow{App: d.Name, Env: env.Name, Version: match[*ae.QueuedVersion], State: "queued"})
		}
	}
	return rows
}
