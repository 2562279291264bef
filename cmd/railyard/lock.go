package main

import (
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/railyard-cd/railyard"
	"github.com/spf13/cobra"
)

// lockTarget is one kind of thing a lock holds, as the lock and unlock
// commands name it: `lock env <env> <id>`, `lock app <app> <id> --env <env>`.
type lockTarget struct {
	use     string // the subcommand
	aliases []string
	kind    railyard.LockKind
	arg     string // what the first argument names
	withEnv bool   // whether --env names the environment
	what    string // for help texts
}

// lockTargets are the kinds of locks, in the order help lists them.
func lockTargets() []lockTarget {
	return []lockTarget{
		{use: "env", aliases: []string{"environment"}, kind: railyard.LockEnvironment, arg: "env", what: "a whole environment"},
		{use: "app", aliases: []string{"application"}, kind: railyard.LockApplication, arg: "app", withEnv: true, what: "one application in an environment"},
		{use: "team", kind: railyard.LockTeam, arg: "team", withEnv: true, what: "a team's applications in an environment"},
		{use: "group", aliases: []string{"environment-group"}, kind: railyard.LockGroup, arg: "group", what: "every environment of an environment group"},
	}
}

// key returns the lock's identity from the first argument and --env.
func (t lockTarget) key(arg, env, id string) railyard.DeleteLock {
	k := railyard.DeleteLock{LockTarget: railyard.LockTarget{Kind: t.kind, ID: id}}
	switch t.kind {
	case railyard.LockEnvironment:
		k.Environment = arg
	case railyard.LockApplication:
		k.Environment, k.Application = env, arg
	case railyard.LockTeam:
		k.Environment, k.Team = env, arg
	case railyard.LockGroup:
		k.Group = arg
	}
	return k
}

// lockOptions are the flags of `railyard lock <kind>`.
type lockOptions struct {
	clientOptions
	env       string
	message   string
	ciLink    string
	expiresIn time.Duration
	expiresAt string
}

func (m *Main) newLockCommand() *cobra.Command {
	var subs []*cobra.Command
	for _, t := range lockTargets() {
		subs = append(subs, m.newLockTargetCommand(t))
	}
	subs = append(subs, m.newLockListCommand("list", "List locks"))
	cmd := newGroupCommand("lock", "Lock an environment, an application, a team or an environment group", subs...)
	cmd.Long = `Lock an environment, an application or a team in an environment, or every
environment of a group. While a lock holds, automation (new releases, release
trains, queue processing) does not change what runs there: it queues the
version instead. People can still deploy by hand with --lock-behavior.

Locking again with the same id replaces the lock.`
	return cmd
}

func (m *Main) newLockTargetCommand(t lockTarget) *cobra.Command {
	o := &lockOptions{}
	use := fmt.Sprintf("%s <%s> <id>", t.use, t.arg)
	if t.withEnv {
		use += " --env <env>"
	}
	cmd := &cobra.Command{
		Use:               use + " -m <message>",
		Aliases:           t.aliases,
		Short:             "Lock " + t.what,
		Example:           lockExample(t, true),
		Args:              exactArgs(t.arg, "id"),
		ValidArgsFunction: m.completeLockTarget(t, &o.clientOptions, nil),
		RunE: m.run(func(ctx context.Context, _ *cobra.Command, args []string) error {
			return m.createLock(ctx, o, t, args[0], args[1])
		}),
	}
	fs := cmd.Flags()
	fs.StringVarP(&o.message, "message", "m", "", "why you lock, so that others know when it can go (required)")
	fs.StringVar(&o.ciLink, "ci-link", "", "URL of a CI run or ticket that explains the lock")
	fs.DurationVar(&o.expiresIn, "expires-in", 0, "remove the lock after this long, such as 4h or 90m")
	fs.StringVar(&o.expiresAt, "expires-at", "", "remove the lock at this time (RFC 3339, such as 2025-12-01T08:00:00Z)")
	if t.withEnv {
		fs.StringVar(&o.env, "env", "", "environment the lock applies in (required)")
		_ = cmd.RegisterFlagCompletionFunc("env", m.completeEnvs(&o.clientOptions))
	}
	return newClientCommand(cmd, &o.clientOptions)
}

// lockExample shows how to use a lock or unlock subcommand.
func lockExample(t lockTarget, lock bool) string {
	args := map[railyard.LockKind]string{
		railyard.LockEnvironment: "production freeze",
		railyard.LockApplication: "checkout hotfix --env production",
		railyard.LockTeam:        "payments q4-freeze --env production",
		railyard.LockGroup:       "prod freeze",
	}[t.kind]
	if !lock {
		return fmt.Sprintf("  railyard unlock %s %s", t.use, args)
	}
	return fmt.Sprintf("  railyard lock %s %s -m \"Black Friday\" --expires-in 48h", t.use, args)
}

// expiry returns the lock's expiry time from --expires-in or --expires-at.
func (o *lockOptions) expiry(now time.Time) (*time.Time, error) {
	switch {
	case o.expiresIn != 0 && o.expiresAt != "":
		return nil, usageErrorf("give either --expires-in or --expires-at, not both")
	case o.expiresIn < 0:
		return nil, usageErrorf("--expires-in must be positive, got %s", o.expiresIn)
	case o.expiresIn > 0:
		t := now.Add(o.expiresIn).UTC().Truncate(time.Second)
		return &t, nil
	case o.expiresAt != "":
		t, err := time.Parse(time.RFC3339, o.expiresAt)
		if err != nil {
			return nil, usageErrorf("--expires-at %q is not an RFC 3339 time such as 2025-12-01T08:00:00Z", o.expiresAt)
		}
		return &t, nil
	}
	return nil, nil
}

// createLock creates the lock and says what it locked.
func (m *Main) createLock(ctx context.Context, o *lockOptions, t lockTarget, arg, id string) error {
	if t.withEnv && o.env == "" {
		return usageErrorf("--env is required: the environment the %s lock applies in", t.kind)
	}
	if strings.TrimSpace(o.message) == "" {
		return usageErrorf("-m/--message is required: say why you lock, so that others know when it can go")
	}
	expires, err := o.expiry(m.Now())
	if err != nil {
		return err
	}
	c, err := m.connect(ctx, &o.clientOptions)
	if err != nil {
		return err
	}
	k := t.key(arg, o.env, id)
	cl := railyard.CreateLock{LockTarget: k.LockTarget, Message: o.message, CILink: o.ciLink, ExpiresAt: expires}
	res, err := c.CreateLock(ctx, cl)
	if err != nil {
		return err
	}
	return m.printer(&o.clientOptions).print(res, func(w io.Writer) {
		fmt.Fprintln(w, describeLockCreated(cl, res))
	})
}

// describeLockCreated says what a lock holds:
// `created environment lock "freeze" on production`.
func describeLockCreated(cl railyard.CreateLock, res *railyard.Result) string {
	envs := make([]string, len(res.Locks))
	for i, l := range res.Locks {
		envs[i] = l.Environment
	}
	s := "created " + describeLock(cl.LockTarget.Kind, cl.ID, strings.Join(envs, ", "), cl.Application, cl.Team, cl.Group)
	if cl.ExpiresAt != nil {
		s += ", expires " + formatTime(*cl.ExpiresAt) + " UTC"
	}
	return s
}

// describeLock names a lock and what it holds.
func describeLock(kind railyard.LockKind, id, env, app, team, group string) string {
	switch kind {
	case railyard.LockApplication:
		return fmt.Sprintf("application lock %q on %s in %s", id, app, env)
	case railyard.LockTeam:
		return fmt.Sprintf("team lock %q on team %s in %s", id, team, env)
	case railyard.LockGroup:
		if env == "" {
			return fmt.Sprintf("environment lock %q on group %s", id, group)
		}
		return fmt.Sprintf("environment lock %q on %s (group %s)", id, env, group)
	}
	return fmt.Sprintf("environment lock %q on %s", id, env)
}

// lockListOptions are the flags of `railyard lock list`.
type lockListOptions struct {
	clientOptions
	env  string
	app  string
	team string
	kind string
}

// newLockListCommand lists locks; it is both `lock list` and `locks`.
func (m *Main) newLockListCommand(use, short string) *cobra.Command {
	o := &lockListOptions{}
	example := "  railyard lock list --env production"
	if use == "locks" {
		example = "  railyard locks --app checkout"
	}
	cmd := &cobra.Command{
		Use:     use,
		Aliases: []string{"ls"},
		Short:   short,
		Example: example,
		Args:    noArgs,
		RunE: m.run(func(ctx context.Context, _ *cobra.Command, _ []string) error {
			return m.findLocks(ctx, o)
		}),
	}
	fs := cmd.Flags()
	fs.StringVar(&o.env, "env", "", "only locks in this environment")
	fs.StringVar(&o.app, "app", "", "only application locks of this application")
	fs.StringVar(&o.team, "team", "", "only team locks of this team")
	fs.StringVar(&o.kind, "kind", "", "only locks of this kind: environment, application or team")
	_ = cmd.RegisterFlagCompletionFunc("env", m.completeEnvs(&o.clientOptions))
	_ = cmd.RegisterFlagCompletionFunc("app", m.completeApps(&o.clientOptions))
	_ = cmd.RegisterFlagCompletionFunc("kind", cobra.FixedCompletions([]string{"environment", "application", "team"}, cobra.ShellCompDirectiveNoFileComp))
	return newClientCommand(cmd, &o.clientOptions)
}

func (m *Main) newLocksCommand() *cobra.Command {
	return m.newLockListCommand("locks", "List locks (same as lock list)")
}

// findLocks lists the matching locks.
func (m *Main) findLocks(ctx context.Context, o *lockListOptions) error {
	switch railyard.LockKind(o.kind) {
	case "", railyard.LockEnvironment, railyard.LockApplication, railyard.LockTeam:
	default:
		return usageErrorf("--kind %q is not known: use environment, application or team", o.kind)
	}
	c, err := m.connect(ctx, &o.clientOptions)
	if err != nil {
		return err
	}
	locks, err := c.FindLocks(ctx, railyard.LockFilter{Kind: railyard.LockKind(o.kind), Environment: o.env, Application: o.app, Team: o.team})
	if err != nil {
		return err
	}
	return m.printer(&o.clientOptions).print(locks, func(w io.Writer) { writeLocksTable(w, locks) })
}

// writeLocksTable writes one row per lock.
func writeLocksTable(w io.Writer, locks []*railyard.Lock) {
	if len(locks) == 0 {
		fmt.Fprintln(w, "No locks.")
		return
	}
	row(w, "ENVIRONMENT", "KIND", "TARGET", "ID", "MESSAGE", "CREATED BY", "CREATED (UTC)", "EXPIRES (UTC)")
	for _, l := range locks {
		target := "-"
		switch l.Kind {
		case railyard.LockApplication:
			target = l.Application
		case railyard.LockTeam:
			target = "team " + l.Team
		}
		row(w, l.Environment, string(l.Kind), target, l.ID, summary(l.Message, 40), orDash(l.CreatedBy.Name), formatTime(l.CreatedAt), formatTimePtr(l.ExpiresAt))
	}
}
