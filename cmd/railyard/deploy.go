package main

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/railyard-cd/railyard"
	"github.com/spf13/cobra"
)

// deployOptions are the flags of `railyard deploy`.
type deployOptions struct {
	clientOptions
	env          string
	lockBehavior string
}

func (m *Main) newDeployCommand() *cobra.Command {
	o := &deployOptions{}
	cmd := &cobra.Command{
		Use:   "deploy <app> <version> --env <env>",
		Short: "Deploy a release of an application to an environment",
		Long: `Deploy a release of an application to an environment by hand.

If locks or a closed deploy window block the application there, the deploy
fails and lists them (--lock-behavior fail, the default); --lock-behavior
queue queues the version instead, to be deployed when nothing blocks it any
more; --lock-behavior ignore deploys anyway and records what was overridden.
A branch restriction of the environment is never overridden.`,
		Example: `  railyard deploy checkout 42 --env production
  railyard deploy checkout 42 --env production --lock-behavior queue`,
		Args:              exactArgs("app", "version"),
		ValidArgsFunction: m.completeApps(&o.clientOptions),
		RunE: m.run(func(ctx context.Context, _ *cobra.Command, args []string) error {
			return m.deploy(ctx, o, args[0], args[1])
		}),
	}
	cmd.Flags().StringVar(&o.env, "env", "", "environment to deploy to (required)")
	cmd.Flags().StringVar(&o.lockBehavior, "lock-behavior", string(railyard.LockBehaviorFail), "what to do when locks or a deploy window block the deploy: fail, queue or ignore")
	_ = cmd.RegisterFlagCompletionFunc("env", m.completeEnvs(&o.clientOptions))
	_ = cmd.RegisterFlagCompletionFunc("lock-behavior", cobra.FixedCompletions([]string{"fail", "queue", "ignore"}, cobra.ShellCompDirectiveNoFileComp))
	return newClientCommand(cmd, &o.clientOptions)
}

// deploy deploys, queues or reports what blocks the deploy.
func (m *Main) deploy(ctx context.Context, o *deployOptions, app, versionArg string) error {
	version, err := parsePositive("<version>", versionArg)
	if err != nil {
		return err
	}
	if o.env == "" {
		return usageErrorf("--env is required: the environment to deploy to")
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
	d := railyard.Deploy{Application: app, Environment: o.env, Version: version, LockBehavior: behavior}
	res, err := c.Deploy(ctx, d)
	if err != nil {
		return blockedError(err, fmt.Sprintf("%s %d cannot be deployed to %s", d.Application, d.Version, d.Environment),
			fmt.Sprintf("railyard deploy %s %d --env %s", d.Application, d.Version, d.Environment))
	}
	return m.printer(&o.clientOptions).print(res, func(w io.Writer) {
		fmt.Fprintln(w, describeDeployResult(d, res))
	})
}

// describeDeployResult says what a deploy did.
func describeDeployResult(d railyard.Deploy, res *railyard.Result) string {
	label := fmt.Sprintf("%s %d", d.Application, d.Version)
	switch res.Outcome {
	case railyard.OutcomeUnchanged:
		return fmt.Sprintf("%s already runs in %s", label, d.Environment)
	case railyard.OutcomeQueued:
		var blockers []railyard.Blocker
		if res.Deployment != nil {
			blockers = res.Deployment.QueuedBecause
		}
		return fmt.Sprintf("queued %s in %s (blocked by %s); %s", label, d.Environment, blockerSummary(blockers), whenDeployed(blockers))
	}
	s := fmt.Sprintf("deployed %s to %s", label, d.Environment)
	return s + deployNotes(res.Event)
}

// deployNotes says what else a manual deploy's event did, in parentheses:
// " (was 2; overriding environment lock "freeze"; queued version 3
// dropped)", or "" when there is nothing to say.
func deployNotes(ev *railyard.Event) string {
	if ev == nil {
		return ""
	}
	var notes []string
	for _, ch := range ev.Changes {
		if ch.Op == railyard.ChangeDeploy && ch.PreviousVersion != 0 {
			notes = append(notes, fmt.Sprintf("was %d", ch.PreviousVersion))
		}
		if ch.Op == railyard.ChangeDeploy && len(ch.Blockers) > 0 {
			notes = append(notes, "overriding "+blockerSummary(ch.Blockers))
		}
		if ch.Op == railyard.ChangeUnqueue {
			notes = append(notes, fmt.Sprintf("queued version %d dropped", ch.Version))
		}
	}
	if len(notes) == 0 {
		return ""
	}
	return " (" + strings.Join(notes, "; ") + ")"
}
