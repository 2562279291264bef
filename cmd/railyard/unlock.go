package main

import (
	"context"
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/railyard-cd/railyard"
	"github.com/spf13/cobra"
)

// unlockOptions are the flags of `railyard unlock <kind>`.
type unlockOptions struct {
	clientOptions
	env string
}

func (m *Main) newUnlockCommand() *cobra.Command {
	var subs []*cobra.Command
	for _, t := range lockTargets() {
		subs = append(subs, m.newUnlockTargetCommand(t))
	}
	cmd := newGroupCommand("unlock", "Remove a lock", subs...)
	cmd.Long = `Remove a lock. Versions queued behind it are deployed at once if it was the
last lock holding them back.`
	return cmd
}

func (m *Main) newUnlockTargetCommand(t lockTarget) *cobra.Command {
	o := &unlockOptions{}
	use := fmt.Sprintf("%s <%s> <id>", t.use, t.arg)
	if t.withEnv {
		use += " --env <env>"
	}
	cmd := &cobra.Command{
		Use:               use,
		Aliases:           t.aliases,
		Short:             "Remove a lock on " + t.what,
		Example:           lockExample(t, false),
		Args:              exactArgs(t.arg, "id"),
		ValidArgsFunction: m.completeLockTarget(t, &o.clientOptions, &o.env),
		RunE: m.run(func(ctx context.Context, _ *cobra.Command, args []string) error {
			return m.deleteLock(ctx, o, t, args[0], args[1])
		}),
	}
	if t.withEnv {
		cmd.Flags().StringVar(&o.env, "env", "", "environment the lock applies in (required)")
		_ = cmd.RegisterFlagCompletionFunc("env", m.completeEnvs(&o.clientOptions))
	}
	return newClientCommand(cmd, &o.clientOptions)
}

// deleteLock removes the lock and says what else that did.
func (m *Main) deleteLock(ctx context.Context, o *unlockOptions, t lockTarget, arg, id string) error {
	if t.withEnv && o.env == "" {
		return usageErrorf("--env is required: the environment the %s lock applies in", t.kind)
	}
	c, err := m.connect(ctx, &o.clientOptions)
	if err != nil {
		return err
	}
	dl := t.key(arg, o.env, id)
	res, err := c.DeleteLock(ctx, dl)
	if err != nil {
		return err
	}
	return m.printer(&o.clientOptions).print(res, func(w io.Writer) {
		fmt.Fprintln(w, describeLockDeleted(dl, res))
	})
}

// describeLockDeleted says which locks went and which queued versions were
// deployed because of it.
func describeLockDeleted(dl railyard.DeleteLock, res *railyard.Result) string {
	var envs, deployed []string
	if res.Event != nil {
		for _, ch := range res.Event.Changes {
			switch ch.Op {
			case railyard.ChangeLockDelete:
				envs = append(envs, ch.Environment)
			case railyard.ChangeDeploy:
				deployed = append(deployed, fmt.Sprintf("%s %d to %s", ch.Application, ch.Version, ch.Environment))
			}
		}
	}
	sort.Strings(envs)
	env := dl.Environment
	if dl.LockTarget.Kind == railyard.LockGroup {
		env = strings.Join(envs, ", ")
	}
	s := "deleted " + describeLock(dl.LockTarget.Kind, dl.ID, env, dl.Application, dl.Team, dl.Group)
	if len(deployed) > 0 {
		s += "; deployed queued " + strings.Join(deployed, ", ")
	}
	return s
}
