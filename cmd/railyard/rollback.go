package main

import (
	"context"
	"fmt"
	"io"

	"github.com/railyard-cd/railyard"
	"github.com/spf13/cobra"
)

// rollbackOptions are the flags of `railyard rollback`.
type rollbackOptions struct {
	clientOptions
	env          string
	to           int64
	lockBehavior string
}

func (m *Main) newRollbackCommand() *cobra.Command {
	o := &rollbackOptions{}
	cmd := &cobra.Command{
		Use:   "rollback <app> --env <env> [--to <version>]",
		Short: "Roll an application back to the version that ran before",
		Long: `Roll an application back in an environment: deploy the version that ran
there before the current one, or with --to the given version. "Before" comes
from the deployment history, so rolling back twice goes back two versions.

A rollback is a deploy by hand: locks and closed deploy windows are handled by
--lock-behavior as for deploy (fail, the default, lists them; queue; ignore),
and a branch restriction of the environment is never overridden.`,
		Example: `  railyard rollback checkout --env production
  railyard rollback checkout --env production --to 38 --lock-behavior ignore`,
		Args:              exactArgs("app"),
		ValidArgsFunction: m.completeApps(&o.clientOptions),
		RunE: m.run(func(ctx context.Context, cmd *cobra.Command, args []string) error {
			if cmd.Flags().Changed("to") && o.to <= 0 {
				return usageErrorf("--to must be a positive version, got %d", o.to)
			}
			return m.rollback(ctx, o, args[0])
		}),
	}
	fs := cmd.Flags()
	fs.StringVar(&o.env, "env", "", "environment to roll back in (required)")
	fs.Int64Var(&o.to, "to", 0, "version to roll back to (default: the version that ran before the current one)")
	fs.StringVar(&o.lockBehavior, "lock-behavior", string(railyard.LockBehaviorFail), "what to do when locks or a deploy window block it: fail, queue or ignore")
	_ = cmd.RegisterFlagCompletionFunc("env", m.completeEnvs(&o.clientOptions))
	_ = cmd.RegisterFlagCompletionFunc("lock-behavior", cobra.FixedCompletions([]string{"fail", "queue", "ignore"}, cobra.ShellCompDirectiveNoFileComp))
	return newClientCommand(cmd, &o.clientOptions)
}

// rollback rolls back, queues or reports what blocks the rollback.
func (m *Main) rollback(ctx context.Context, o *rollbackOptions, app string) error {
	if o.env == "" {
		return usageErrorf("--env is required: the environment to roll %s back in", app)
	}
	behavior := railyard.LockBehavior(o.lockBehavior)
	switch behavior {
	case railyard.LockBehaviorFail, railyard.LockBehaviorQueue, railyard.LockBehaviorIgnore:
	default:
		return usageErrorf("--lock-behavior %q is not known: use fail, queue or ignore", o.lockBehavior)
	}
	c, err := m.connect(ctx, &o.clientOptions)
	if err != nil {
		return err
	}
	r := railyard.Rollback{Application: app, Environment: o.env, Version: o.to, LockBehavior: behavior}
	res, err := c.Rollback(ctx, r)
	if err != nil {
		retry := fmt.Sprintf("railyard rollback %s --env %s", app, o.env)
		if o.to != 0 {
			retry += fmt.Sprintf(" --to %d", o.to)
		}
		return blockedError(err, fmt.Sprintf("%s cannot be rolled back in %s", app, o.env), retry)
	}
	return m.printer(&o.clientOptions).print(res, func(w io.Writer) {
		fmt.Fprintln(w, describeRollbackResult(r, res))
	})
}

// describeRollbackResult says what a rollback did.
func describeRollbackResult(r railyard.Rollback, res *railyard.Result) string {
	version := r.Version
	if res.Release != nil {
		version = res.Release.Version
	}
	label := fmt.Sprintf("%s %d", r.Application, version)
	switch res.Outcome {
	case railyard.OutcomeUnchanged:
		return fmt.Sprintf("%s already runs in %s", label, r.Environment)
	case railyard.OutcomeQueued:
		var blockers []railyard.Blocker
		if res.Deployment != nil {
			blockers = res.Deployment.QueuedBecause
		}
		return fmt.Sprintf("queued rollback of %s to %d in %s (blocked by %s); %s", r.Application, version, r.Environment, blockerSummary(blockers), whenDeployed(blockers))
	}
	s := fmt.Sprintf("rolled back %s in %s to %d", r.Application, r.Environment, version)
	return s + deployNotes(res.Event)
}
