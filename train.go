package railyard

import "time"

// Skip reasons of a release train, for one application in one environment
// (or, SkipEnvironmentNotInChain, for a whole environment of a group).
const (
	// SkipAlreadyCurrent: the target already runs the upstream's version.
	SkipAlreadyCurrent = "already-current"
	// SkipNoUpstreamVersion: the upstream environment runs no version of
	// the application (for a target fed by every new release: it has no
	// release, none from a branch matching upstream.branch).
	SkipNoUpstreamVersion = "no-upstream-version"
	// SkipNoManifestsForTarget: the upstream's release has no manifest for
	// the target, so it cannot be deployed there.
	SkipNoManifestsForTarget = "no-manifests-for-target"
	// SkipBranchRestricted: the target's branchRestriction refuses the
	// release's source branch.
	SkipBranchRestricted = "branch-restricted"
	// SkipEnvironmentNotInChain: a member of a group train has no
	// upstream, so there is nothing to take versions from.
	SkipEnvironmentNotInChain = "environment-not-in-chain"
)

// OutcomeSkipped is the outcome of an application a train left alone.
const OutcomeSkipped = "skipped"

// UpstreamLatest is the TrainEnvironment.Upstream of a target fed by every
// new release (upstream.latest): its versions are the latest releases.
const UpstreamLatest = "latest"

// TrainResult is what a release train did or, as a prognosis, would do:
// an entry for every environment and every application it looked at.
type TrainResult struct {
	// Environment or Group is the target the train was asked for.
	Environment string `json:"environment,omitempty"`
	Group       string `json:"group,omitempty"`
	// Team and Application are the filters given, if any.
	Team        string `json:"team,omitempty"`
	Application string `json:"application,omitempty"`
	// DryRun is true for a prognosis: nothing was changed.
	DryRun bool `json:"dryRun"`
	// ScheduledAt is the schedule time of a train the scheduler ran.
	ScheduledAt *time.Time `json:"scheduledAt,omitempty"`
	// Environments are the target environments in pipeline order.
	Environments []*TrainEnvironment `json:"environments"`
	// Deployed, Queued and Skipped count applications over every
	// environment.
	Deployed int `json:"deployed"`
	Queued   int `json:"queued"`
	Skipped  int `json:"skipped"`
	// Description says it in one line of at most MaxSummaryLength
	// characters: "Release train to production from staging: 1,204
	// deployed, 1 queued, 3 skipped". It is the summary of the event's
	// description, whose details list the environments skipped and the
	// applications deployed and queued.
	Description string `json:"description"`
}

// TrainEnvironment is one target environment of a train.
type TrainEnvironment struct {
	Environment string `json:"environment"`
	// Upstream is where its versions come from: an environment's name,
	// or UpstreamLatest; "" if it has no upstream.
	Upstream string `json:"upstream,omitempty"`
	// SkipReason is set (SkipEnvironmentNotInChain) when the whole
	// environment was skipped; Applications is then empty.
	SkipReason   string              `json:"skipReason,omitempty"`
	Applications []*TrainApplication `json:"applications"`
}

// TrainApplication is what a train did with one application in one
// environment.
type TrainApplication struct {
	Application string `json:"application"`
	Team        string `json:"team,omitempty"`
	// Outcome is OutcomeDeployed, OutcomeQueued or OutcomeSkipped.
	Outcome string `json:"outcome"`
	// From is the version that ran in the target before (null: none);
	// To is the upstream's version (null: none).
	From *int64 `json:"from"`
	To   *int64 `json:"to"`
	// Blockers are the locks and windows a queued version waits for.
	Blockers []Blocker `json:"blockers,omitempty"`
	// SkipReason is one of the Skip constants when Outcome is skipped.
	SkipReason string `json:"skipReason,omitempty"`
	// Detail says more about a skip, e.g. the branch and the rule.
	Detail string `json:"detail,omitempty"`
}
