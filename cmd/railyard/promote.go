package main

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/railyard-cd/railyard"
	"github.com/spf13/cobra"
)

// promoteOptions are the flags of `railyard promote`.
type promoteOptions struct {
	clientOptions
	to     string
	dryRun bool
	ciLink string
}

func (m *Main) newPromoteCommand() *cobra.Command {
	o := &promoteOptions{}
	cmd := &cobra.Command{
		Use:   "promote <app> --to <env>",
		Short: "Promote one application: deploy the version its upstream runs",
		Long: `Promote one application to an environment: deploy there the version the
environment's upstream runs (for an environment with upstream.latest, the
newest release). It is a release train of one application: when a lock or a
closed deploy window holds it back, the version is queued (not refused) and
deployed by Railyard when nothing blocks it any more; when there is nothing
to do, it says why (for example already-current).

--dry-run shows what the promotion would do, without changing anything.`,
		Example: `  railyard promote checkout --to production
  railyard promote checkout --to production --dry-run`,
		Args:              exactArgs("app"),
		ValidArgsFunction: m.completeApps(&o.clientOptions),
		RunE: m.run(func(ctx context.Context, _ *cobra.Command, args []string) error {
			return m.promote(ctx, o, args[0])
		}),
	}
	fs := cmd.Flags()
	fs.StringVar(&o.to, "to", "", "environment to promote to (required)")
	fs.BoolVar(&o.dryRun, "dry-run", false, "show what the promotion would do, without changing anything")
	fs.StringVar(&o.ciLink, "ci-link", "", "URL of the CI run that promotes, recorded with the event")
	_ = cmd.RegisterFlagCompletionFunc("to", m.completeEnvs(&o.clientOptions))
	return newClientCommand(cmd, &o.clientOptions)
}

// promote promotes the application and prints what happened.
func (m *Main) promote(ctx context.Context, o *promoteOptions, app string) error {
	if o.to == "" {
		return usageErrorf("--to is required: the environment to promote %s to", app)
	}
	c, err := m.connect(ctx, &o.clientOptions)
	if err != nil {
		return err
	}
	res, err := c.ReleaseTrain(ctx, railyard.ReleaseTrain{Environment: o.to, Application: app, CILink: o.ciLink}, o.dryRun)
	if err != nil {
		return err
	}
	return m.printer(&o.clientOptions).print(res, func(w io.Writer) { writePromoteResult(w, res, m.Now()) })
}

// writePromoteResult says what a promotion did (or would do) in one line,
// followed by what blocks it or why it was skipped.
func writePromoteResult(w io.Writer, res *railyard.Result, now time.Time) {
	tr := res.Train
	if tr == nil {
		fmt.Fprintln(w, res.Outcome)
		return
	}
	fmt.Fprintln(w, tr.Description)
	for _, te := range tr.Environments {
		for _, a := range te.Applications {
			for _, b := range a.Blockers {
				fmt.Fprintf(w, "  blocked by %s\n", blockerShort(b, now))
			}
			if a.Detail != "" {
				fmt.Fprintf(w, "  %s\n", a.Detail)
			}
		}
	}
	if tr.Queued > 0 && !tr.DryRun {
		fmt.Fprintln(w, "The version is queued: Railyard deploys it when nothing blocks it any more.")
	}
}
