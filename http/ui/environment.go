package ui

import (
	"net/http"
	"slices"
	"strings"

	railyard "github.com/railyard-cd/railyard"
)

// environmentView is the data of an environment's page.
type environmentView struct {
	*page
	Env          *railyard.Environment
	Upstream     string
	Downstream   []string
	GroupMembers []string
	Windows      *railyard.WindowState
	Locks        lockTable
	Teams        []string
	// Train is the release train's prognosis; TrainError says why there
	// is none (no upstream, unknown team).
	Train      *trainView
	TrainError string
	TrainTeam  string
	Form       *formState
}

// trainView is a release train prognosis as tables.
type trainView struct {
	*railyard.TrainResult
	MovingRows  []trainRow
	SkippedRows []trainRow
}

// trainRow is one application of a prognosis.
type trainRow struct {
	App, Team, Outcome, From, To, Reason string
}

// handleEnvironment renders GET /envs/{env}.
func (h *Handler) handleEnvironment(w http.ResponseWriter, r *http.Request, p *page) error {
	return h.renderEnvironment(w, r, p, r.PathValue("env"), nil)
}

// renderEnvironment renders the environment page, with a lock form sent
// back if given.
func (h *Handler) renderEnvironment(w http.ResponseWriter, r *http.Request, p *page, name string, form *formState) error {
	ctx := r.Context()
	if err := h.loadCommon(r, p); err != nil {
		return err
	}
	env, err := h.engine.FindEnvironment(ctx, name)
	if railyard.ErrorCode(err) == railyard.EINVALID {
		return railyard.Errorf(railyard.ENOTFOUND, "There is no environment %q", name)
	}
	if err != nil {
		return err
	}
	p.Title, p.Canonical = env.Name, "/envs/"+env.Name
	v := &environmentView{page: p, Env: env, Upstream: upstreamLabel(env), Form: form, TrainTeam: r.URL.Query().Get("team")}
	if err := h.environmentContext(r, v); err != nil {
		return err
	}
	if v.Windows, err = h.engine.DeployWindowState(ctx, name); err != nil {
		return err
	}
	locks, err := h.engine.FindLocks(ctx, railyard.LockFilter{Environment: name})
	if err != nil {
		return err
	}
	v.Locks = newLockTable(p, locks, "/envs/"+name)
	v.Locks.Caption, v.Locks.Empty = "Locks in "+name, "No locks in "+name+"."
	res, err := h.engine.Prognosis(ctx, &railyard.ReleaseTrain{Environment: name, Team: v.TrainTeam})
	switch code := railyard.ErrorCode(err); code {
	case "":
		if v.Train, err = h.trainView(r, res); err != nil {
			return err
		}
	case railyard.EINVALID, railyard.ENOTFOUND:
		v.TrainError = railyard.ErrorMessage(err)
	default:
		return err
	}
	return h.render(w, r, "environment", v, p)
}

// environmentContext fills in the environments around this one and the
// teams that can be locked.
func (h *Handler) environmentContext(r *http.Request, v *environmentView) error {
	envs, err := h.engine.FindEnvironments(r.Context())
	if err != nil {
		return err
	}
	for _, e := range envs {
		if e.UpstreamEnvironment() == v.Env.Name {
			v.Downstream = append(v.Downstream, e.Name)
		}
		if g := v.Env.Config.EnvironmentGroup; g != "" && e.Config.EnvironmentGroup == g {
			v.GroupMembers = append(v.GroupMembers, e.Name)
		}
	}
	apps, err := h.engine.FindApplications(r.Context())
	if err != nil {
		return err
	}
	for _, a := range apps {
		if a.Team != "" {
			v.Teams = append(v.Teams, a.Team)
		}
	}
	slices.Sort(v.Teams)
	v.Teams = slices.Compact(v.Teams)
	return nil
}

// trainView splits a prognosis into what moves (deployed, queued) and
// what is skipped, with reasons and display versions.
func (h *Handler) trainView(r *http.Request, res *railyard.TrainResult) (*trainView, error) {
	needs := map[string][]int64{}
	for _, te := range res.Environments {
		for _, a := range te.Applications {
			for _, v := range []*int64{a.From, a.To} {
				if v != nil {
					needs[a.Application] = append(needs[a.Application], *v)
				}
			}
		}
	}
	apps, err := h.engine.FindApplications(r.Context())
	if err != nil {
		return nil, err
	}
	display, err := h.releases.lookup(r.Context(), h.engine, apps, needs)
	if err != nil {
		return nil, err
	}
	tv := &trainView{TrainResult: res}
	for _, te := range res.Environments {
		for _, a := range te.Applications {
			row := trainRow{App: a.Application, Team: a.Team, Outcome: a.Outcome,
				From: optionalLabel(display[a.Application], a.From), To: optionalLabel(display[a.Application], a.To)}
			switch a.Outcome {
			case railyard.OutcomeSkipped:
				row.Reason = skipReason(a)
				tv.SkippedRows = append(tv.SkippedRows, row)
				continue
			case railyard.OutcomeQueued:
				descs := make([]string, len(a.Blockers))
				for i, b := range a.Blockers {
					descs[i] = b.Description
				}
				row.Reason = strings.Join(descs, "; ")
			}
			tv.MovingRows = append(tv.MovingRows, row)
		}
	}
	return tv, nil
}

// optionalLabel labels a version that may be missing ("–").
func optionalLabel(display map[int64]string, v *int64) string {
	if v == nil {
		return "–"
	}
	return railyard.VersionLabel(*v, display[*v])
}

// skipReason says in words why a train leaves an application alone.
func skipReason(a *railyard.TrainApplication) string {
	switch a.SkipReason {
	case railyard.SkipAlreadyCurrent:
		return "already runs the upstream's version"
	case railyard.SkipNoUpstreamVersion:
		return "the upstream runs no version of it"
	case railyard.SkipNoManifestsForTarget:
		return "the upstream's release has no manifest for this environment"
	case railyard.SkipBranchRestricted:
		if a.Detail != "" {
			return a.Detail
		}
		return "the branch restriction refuses the release's branch"
	}
	if a.Detail != "" {
		return a.SkipReason + ": " + a.Detail
	}
	return a.SkipReason
}
