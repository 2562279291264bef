package http

import (
	nethttp "net/http"

	railyard "github.com/railyard-cd/railyard"
)

// trainRequest is the body of a release train; the target comes from the
// path. The body is optional: an empty one runs the train for every team.
// A train's scheduledAt is set by Railyard's scheduler only, so it is not
// a field here.
type trainRequest struct {
	Team   string `json:"team,omitempty"`
	DryRun bool   `json:"dryRun,omitempty"`
	CILink string `json:"ciLink,omitempty"`
}

// promoteRequest is the optional body of a promotion; application and
// environment come from the path.
type promoteRequest struct {
	DryRun bool   `json:"dryRun,omitempty"`
	CILink string `json:"ciLink,omitempty"`
}

// handleReleaseTrain runs a release train to the environment or the
// environment group of the path, or, with dryRun, computes its prognosis.
func (s *Server) handleReleaseTrain(w nethttp.ResponseWriter, r *nethttp.Request) error {
	var req trainRequest
	if err := s.decodeOptionalJSON(r, &req); err != nil {
		return err
	}
	t := &railyard.ReleaseTrain{Environment: r.PathValue("env"), Group: r.PathValue("group"), Team: req.Team, CILink: req.CILink}
	return s.train(w, r, t, req.DryRun)
}

// handlePromote promotes one application: a release train of that
// application into the environment of the path.
func (s *Server) handlePromote(w nethttp.ResponseWriter, r *nethttp.Request) error {
	var req promoteRequest
	if err := s.decodeOptionalJSON(r, &req); err != nil {
		return err
	}
	t := &railyard.ReleaseTrain{Environment: r.PathValue("env"), Application: r.PathValue("app"), CILink: req.CILink}
	return s.train(w, r, t, req.DryRun)
}

// train applies t, or answers its prognosis in the same shape: a Result
// whose train has dryRun true, with outcome unchanged and no event.
func (s *Server) train(w nethttp.ResponseWriter, r *nethttp.Request, t *railyard.ReleaseTrain, dryRun bool) error {
	if !dryRun {
		return s.apply(w, r, t)
	}
	plan, err := s.engine.Prognosis(r.Context(), t)
	if err != nil {
		return err
	}
	writeJSON(w, nethttp.StatusOK, prognosisResult(plan))
	return nil
}

// prognosisResult wraps a prognosis in the Result a train answers, so
// that clients read both the same way.
func prognosisResult(plan *railyard.TrainResult) *railyard.Result {
	return &railyard.Result{Kind: railyard.KindReleaseTrain, Outcome: railyard.OutcomeUnchanged, Train: plan}
}

// handleDeployWindows answers what the deploy windows of an environment
// say now.
func (s *Server) handleDeployWindows(w nethttp.ResponseWriter, r *nethttp.Request) error {
	st, err := s.engine.DeployWindowState(r.Context(), r.PathValue("env"))
	if err != nil {
		return withField(err, railyard.ENOTFOUND, "environment")
	}
	writeJSON(w, nethttp.StatusOK, st)
	return nil
}

// withField names field in a domain error of the given code that names
// none (a store's not-found error does not know the request's fields).
func withField(err error, code, field string) error {
	e := railyard.AsError(err)
	if e == nil || e.Code != code || e.Field != "" {
		return err
	}
	cp := *e
	cp.Field = field
	return &cp
}

// trainAnswer describes the answer of a train for the documentation.
const trainAnswer = "The answer is always a Result of kind `release-train` whose `train` lists every target environment and every " +
	"application the train looked at, each `deployed` (from → to), `queued` (with its `blockers`: locks and deploy windows) or " +
	"`skipped` (with a `skipReason`: already-current, no-upstream-version, no-manifests-for-target, branch-restricted; a whole " +
	"group member: environment-not-in-chain). `outcome` is `deployed` when anything was deployed, `queued` when something was " +
	"only queued, `unchanged` otherwise; `event` is the one event of the train (absent when nothing changed). With `dryRun` the " +
	"answer has the same shape: `train.dryRun` is true, `outcome` is `unchanged`, there is no event and nothing changed (the " +
	"prognosis). `ciLink` (an http or https URL) is recorded in the event's payload. `scheduledAt` cannot be given: it is set by " +
	"Railyard's scheduler only. The Content-Type must be application/json, also for an empty body."

// releaseTrainDoc documents the release train to an environment or, for
// a group, to every member of the group.
func releaseTrainDoc(group bool) *operation {
	summary, target := "Run a release train to an environment", "the environment: for every application, the version its upstream "+
		"environment runs (or, for an `upstream.latest` environment, the newest release from a branch matching `upstream.branch`)"
	errs := "400 when the environment has no upstream (field `environment`); 404 naming the field for an unknown environment or team."
	if group {
		summary, target = "Run a release train to an environment group", "every member environment of the group, each from its own "+
			"upstream, planned from the state before the train and applied in one event; a blocked member does not stop the others, "+
			"a member without upstream is skipped as a whole"
		errs = "404 naming the field for an unknown group (no environment has it as `environmentGroup`) or team."
	}
	return &operation{
		Tag:          "promotion",
		Summary:      summary,
		Description:  "Deploys to " + target + ". `team` narrows the train to the applications of one team; the body may be empty. " + trainAnswer + " " + errs,
		Request:      trainRequest{},
		BodyOptional: true,
		Responses:    []response{{200, "The train ran (or, with dryRun, its prognosis); see `train`.", railyard.Result{}}},
		Errors:       []int{400, 404, 413, 415},
	}
}

var promoteDoc = &operation{
	Tag:     "promotion",
	Summary: "Promote one application to an environment",
	Description: "A release train of one application: deploys to the environment the version its upstream runs. It is automation " +
		"like any train: a promotion blocked by locks or a closed deploy window is queued (outcome `queued`, the blockers in " +
		"`train`), not refused; a skip says why in `train` (e.g. already-current). The body may be empty. " + trainAnswer +
		" 400 when the environment has no upstream (field `environment`); 404 naming the field for an unknown environment or application.",
	Request:      promoteRequest{},
	BodyOptional: true,
	Responses:    []response{{200, "Promoted, queued or skipped (or, with dryRun, the prognosis); see `train`.", railyard.Result{}}},
	Errors:       []int{400, 404, 413, 415},
}

var deployWindowsDoc = &operation{
	Tag:     "promotion",
	Summary: "What an environment's deploy windows say now",
	Description: "Whether automation may deploy to the environment now (inside an allow window, or there are none, and outside " +
		"every deny window), the windows that block it if not (with `until`: when deploys are allowed again, if known), and " +
		"`nextChange`: when that flips next (absent when not within a year). An environment without windows is always allowed.",
	Responses: []response{{200, "The windows' verdict now.", railyard.WindowState{}}},
	Errors:    []int{400, 404},
}
