package main

import (
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/railyard-cd/railyard"
	rhttp "github.com/railyard-cd/railyard/http"
	"github.com/spf13/cobra"
)

// trainOptions are the flags of `railyard train`.
type trainOptions struct {
	clientOptions
	group  bool
	team   string
	dryRun bool
	ciLink string
}

func (m *Main) newTrainCommand() *cobra.Command {
	o := &trainOptions{}
	cmd := &cobra.Command{
		Use:   "train <env|group>",
		Short: "Run a release train: bring an environment up to its upstream",
		Long: `Run a release train to an environment: every application gets the version
its upstream environment runs (or, for an environment with upstream.latest,
its newest release). Applications held back by a lock or a closed deploy
window are queued and deployed by Railyard when nothing blocks them any more;
others may be skipped, with the reason. The whole train is one event.

The argument names an environment or, if no environment has that name, an
environment group: the train then goes to every member of the group, each
from its own upstream. --group says it is a group without looking for an
environment first (needed when an environment has the group's name).

--dry-run shows what the train would do now (the prognosis) and changes
nothing. The table lists every environment with its applications: what
happened (or would), the versions from → to, and why it was queued or
skipped.`,
		Example: `  railyard train staging
  railyard train production --team payments --dry-run
  railyard train prod --group --ci-link https://ci.example.com/builds/42`,
		Args:              exactArgs("env|group"),
		ValidArgsFunction: m.completeTrainTarget(&o.clientOptions),
		RunE: m.run(func(ctx context.Context, _ *cobra.Command, args []string) error {
			return m.train(ctx, o, args[0])
		}),
	}
	fs := cmd.Flags()
	fs.BoolVar(&o.group, "group", false, "the argument is an environment group: train every member environment")
	fs.StringVar(&o.team, "team", "", "only the applications of this team")
	fs.BoolVar(&o.dryRun, "dry-run", false, "show what the train would do, without changing anything")
	fs.StringVar(&o.ciLink, "ci-link", "", "URL of the CI run that started the train, recorded with the event")
	_ = cmd.RegisterFlagCompletionFunc("team", func(cmd *cobra.Command, _ []string, _ string) ([]string, cobra.ShellCompDirective) {
		return m.completeWith(cmd, &o.clientOptions, listTeams), noFiles
	})
	return newClientCommand(cmd, &o.clientOptions)
}

// train runs the train (or its prognosis) to the environment or group
// named target, and prints what it did.
func (m *Main) train(ctx context.Context, o *trainOptions, target string) error {
	c, err := m.connect(ctx, &o.clientOptions)
	if err != nil {
		return err
	}
	t := railyard.ReleaseTrain{Team: o.team, CILink: o.ciLink}
	if o.group {
		t.Group = target
	} else {
		t.Environment = target
	}
	res, err := c.ReleaseTrain(ctx, t, o.dryRun)
	if !o.group && isNotFound(err, "environment") {
		// No such environment: the name may be a group's.
		t.Environment, t.Group = "", target
		res, err = c.ReleaseTrain(ctx, t, o.dryRun)
		if isNotFound(err, "group") {
			return railyard.Errorf(railyard.ENOTFOUND, "%q is neither an environment nor an environment group (no environment has environmentGroup %q)", target, target).WithField("environment")
		}
	}
	if err != nil {
		return err
	}
	return m.printer(&o.clientOptions).print(res, func(w io.Writer) { writeTrainResult(w, res, m.Now()) })
}

// isNotFound reports whether err is ENOTFOUND naming field.
func isNotFound(err error, field string) bool {
	e := railyard.AsError(err)
	return e != nil && e.Code == railyard.ENOTFOUND && e.Field == field
}

// completeTrainTarget completes the argument of train: environments and
// environment groups.
func (m *Main) completeTrainTarget(o *clientOptions) cobra.CompletionFunc {
	return func(cmd *cobra.Command, args []string, _ string) ([]string, cobra.ShellCompDirective) {
		if len(args) > 0 {
			return nil, noFiles
		}
		return m.completeWith(cmd, o, func(ctx context.Context, c *rhttp.Client) ([]string, error) {
			envs, err := listEnvs(ctx, c)
			if err != nil {
				return nil, err
			}
			groups, err := listGroups(ctx, c)
			return append(envs, groups...), err
		}), noFiles
	}
}

// writeTrainResult writes a train's result (or prognosis) for people:
// per environment a header line and one row per application, then the
// train's description with the counts. Window blockers show their end on
// the window's clock, relative to now.
func writeTrainResult(w io.Writer, res *railyard.Result, now time.Time) {
	tr := res.Train
	if tr == nil {
		fmt.Fprintln(w, res.Outcome)
		return
	}
	for i, te := range tr.Environments {
		if i > 0 {
			fmt.Fprintln(w)
		}
		writeTrainEnvironment(w, te, tr.DryRun, now)
	}
	if len(tr.Environments) > 0 {
		fmt.Fprintln(w)
	}
	summary := tr.Description
	if !tr.DryRun && res.Event == nil {
		summary += " (nothing changed)"
	}
	fmt.Fprintln(w, summary)
}

// writeTrainEnvironment writes one target environment of a train.
func writeTrainEnvironment(w io.Writer, te *railyard.TrainEnvironment, dryRun bool, now time.Time) {
	if te.SkipReason != "" {
		fmt.Fprintf(w, "Environment %s: skipped, %s (it has no upstream to take versions from)\n", te.Environment, te.SkipReason)
		return
	}
	from := te.Upstream
	if from == railyard.UpstreamLatest {
		from = "the latest releases"
	}
	fmt.Fprintf(w, "Environment %s (from %s)\n", te.Environment, from)
	if len(te.Applications) == 0 {
		fmt.Fprintln(w, "No applications.")
		return
	}
	outcome := "OUTCOME"
	if dryRun {
		outcome = "PLAN"
	}
	row(w, "APPLICATION", outcome, "FROM → TO", "REASON")
	for _, a := range te.Applications {
		row(w, a.Application, trainOutcome(a.Outcome, dryRun), versionPtr(a.From)+" → "+versionPtr(a.To), trainReason(a, now))
	}
}

// trainOutcome names an outcome; a prognosis says what would be done.
func trainOutcome(outcome string, dryRun bool) string {
	if !dryRun {
		return outcome
	}
	switch outcome {
	case railyard.OutcomeDeployed:
		return "deploy"
	case railyard.OutcomeQueued:
		return "queue"
	case railyard.OutcomeSkipped:
		return "skip"
	}
	return outcome
}

// trainReason says why an application was queued (its blockers) or
// skipped (the reason, and its detail).
func trainReason(a *railyard.TrainApplication, now time.Time) string {
	switch {
	case len(a.Blockers) > 0:
		parts := make([]string, len(a.Blockers))
		for i, b := range a.Blockers {
			parts[i] = blockerShort(b, now)
		}
		return strings.Join(parts, "; ")
	case a.SkipReason != "" && a.Detail != "":
		return a.SkipReason + ": " + a.Detail
	}
	return orDash(a.SkipReason)
}

// versionPtr formats an optional version, "-" for none.
func versionPtr(v *int64) string {
	if v == nil {
		return "-"
	}
	return fmt.Sprint(*v)
}
