package railyard

import (
	"context"
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"time"
)

// Apply validates the commands and applies them, in order, in one store
// transaction: all of them or none. Each command that changes something is
// recorded as one event with actor. At most MaxBatchCommands commands.
func (e *Engine) Apply(ctx context.Context, actor Actor, cmds ...Command) ([]*Result, error) {
	if len(cmds) == 0 {
		return nil, Errorf(EINVALID, "commands: give at least one command").WithField("commands")
	}
	if len(cmds) > MaxBatchCommands {
		return nil, Errorf(EINVALID, "commands: a batch holds at most %d commands, got %d", MaxBatchCommands, len(cmds)).WithField("commands")
	}
	if err := actor.Validate(); err != nil {
		return nil, err
	}
	for i, cmd := range cmds {
		if cr, ok := cmd.(*CreateRelease); ok {
			cr.maxManifestBytes = e.MaxManifestBytes
		}
		if err := cmd.Validate(); err != nil {
			return nil, batchError(len(cmds), i, cmd, err)
		}
	}
	var results []*Result
	err := e.store.Update(ctx, func(tx Tx) error {
		results = make([]*Result, 0, len(cmds))
		now := normalizeTime(e.now())
		for i, cmd := range cmds {
			c := &commandContext{engine: e, tx: tx, now: now, actor: actor}
			res, err := cmd.apply(ctx, c)
			if err != nil {
				return batchError(len(cmds), i, cmd, err)
			}
			res.Kind = cmd.Kind()
			if len(c.changes) > 0 {
				ev, err := c.record(ctx, cmd)
				if err != nil {
					return err
				}
				res.Event = ev
			}
			results = append(results, res)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	for _, r := range results {
		if r.Event != nil {
			e.notifier.notify()
			break
		}
	}
	return results, nil
}

// ApplyOne applies a single command.
func (e *Engine) ApplyOne(ctx context.Context, actor Actor, cmd Command) (*Result, error) {
	results, err := e.Apply(ctx, actor, cmd)
	if err != nil {
		return nil, err
	}
	return results[0], nil
}

func (e *Engine) now() time.Time {
	if e.Now == nil {
		return time.Now()
	}
	return e.Now()
}

func (e *Engine) keepReleases() int {
	if e.KeepReleases <= 0 {
		return DefaultKeepReleases
	}
	return e.KeepReleases
}

// batchError prefixes the message of a failing command of a batch with
// its position, keeping the code and detail.
func batchError(n, i int, cmd Command, err error) error {
	if n == 1 {
		return err
	}
	de := AsError(err)
	if de == nil {
		return fmt.Errorf("command %d (%s): %w", i+1, cmd.Kind(), err)
	}
	cp := *de
	cp.Message = fmt.Sprintf("command %d (%s): %s", i+1, cmd.Kind(), de.Message)
	if cp.Field != "" {
		cp.Field = fmt.Sprintf("commands[%d].%s", i, cp.Field)
	}
	return &cp
}

// commandContext is what a command sees while it applies: the transaction,
// the time, the actor, and the changes it has made so far.
type commandContext struct {
	engine  *Engine
	tx      Tx
	now     time.Time
	actor   Actor
	changes []Change
	// description says what happened; set by the command.
	description string

	// locks caches the locks of an environment for this command.
	locks map[string][]*Lock
	// envs caches environments by name, windows the window blockers of an
	// environment at now, regexps the compiled branch rules.
	envs    map[string]*Environment
	windows map[string][]Blocker
	regexps map[string]*regexp.Regexp
}

// change records one state change.
func (c *commandContext) change(ch Change) {
	c.changes = append(c.changes, ch)
}

// describe sets the event description to one summary line, bounded
// (see NewDescription).
func (c *commandContext) describe(format string, args ...any) {
	c.description = NewDescription(fmt.Sprintf(format, args...)).String()
}

// record stores the event of the command.
func (c *commandContext) record(ctx context.Context, cmd Command) (*Event, error) {
	payload, err := json.Marshal(payloadOf(cmd))
	if err != nil {
		return nil, fmt.Errorf("encode %s payload: %w", cmd.Kind(), err)
	}
	ev := &Event{
		Time:        c.now,
		Actor:       c.actor,
		Kind:        cmd.Kind(),
		Description: c.description,
		Payload:     payload,
		Changes:     c.changes,
		Refs:        refsOf(c.changes),
	}
	if err := c.tx.CreateEvent(ctx, ev); err != nil {
		return nil, fmt.Errorf("record event: %w", err)
	}
	return ev, nil
}

// refsOf derives the query index of an event from its changes.
func refsOf(changes []Change) []EventRef {
	seen := make(map[EventRef]bool)
	var refs []EventRef
	for _, ch := range changes {
		ref := EventRef{Application: ch.Application, Environment: ch.Environment, SourceCommitID: ch.SourceCommitID}
		if ch.Lock != nil {
			ref.Environment = ch.Lock.Environment
			ref.Application = ch.Lock.Application
		}
		if ch.Release != nil {
			ref.Application = ch.Release.Application
			ref.SourceCommitID = ch.Release.SourceCommitID
		}
		if ref == (EventRef{}) || seen[ref] {
			continue
		}
		seen[ref] = true
		refs = append(refs, ref)
	}
	return refs
}

// envLocks returns the unexpired locks of an environment, cached for the
// command (a command's own lock changes invalidate the cache).
func (c *commandContext) envLocks(ctx context.Context, env string) ([]*Lock, error) {
	if locks, ok := c.locks[env]; ok {
		return locks, nil
	}
	all, err := c.tx.FindLocks(ctx, LockFilter{Environment: env})
	if err != nil {
		return nil, err
	}
	locks := all[:0]
	for _, l := range all {
		if !l.Expired(c.now) {
			locks = append(locks, l)
		}
	}
	if c.locks == nil {
		c.locks = make(map[string][]*Lock)
	}
	c.locks[env] = locks
	return locks, nil
}

// forgetLocks drops the lock cache of env after a lock change.
func (c *commandContext) forgetLocks(env string) {
	delete(c.locks, env)
}

// blockers returns what holds automation back from deploying app (of
// team) to env: environment locks, the app's locks, its team's locks, and
// the environment's deploy windows if they are closed. It is the one
// place that decides; manual deploys see the same list.
func (c *commandContext) blockers(ctx context.Context, app, team, env string) ([]Blocker, error) {
	locks, err := c.envLocks(ctx, env)
	if err != nil {
		return nil, err
	}
	var blockers []Blocker
	for _, l := range locks {
		if lockApplies(l, app, team) {
			blockers = append(blockers, lockBlocker(l))
		}
	}
	windows, err := c.windowBlockers(ctx, env)
	if err != nil {
		return nil, err
	}
	return append(blockers, windows...), nil
}

// windowBlockers returns the closed deploy windows of env at now, cached
// for the command: the evaluation is the same for every application.
func (c *commandContext) windowBlockers(ctx context.Context, env string) ([]Blocker, error) {
	if b, ok := c.windows[env]; ok {
		return b, nil
	}
	e, err := c.environment(ctx, env)
	if err != nil {
		return nil, err
	}
	var blockers []Blocker
	if len(e.Config.DeployWindows) > 0 {
		st, err := EvaluateDeployWindows(e.Config.DeployWindows, c.now)
		if err != nil {
			return nil, Errorf(EINVALID, "environment %s: %s; fix its configuration", env, ErrorMessage(err)).WithField(AsError(err).Field)
		}
		blockers = st.Blockers
	}
	if c.windows == nil {
		c.windows = make(map[string][]Blocker)
	}
	c.windows[env] = blockers
	return blockers, nil
}

// environment returns an environment, cached for the command; ENOTFOUND
// if it does not exist.
func (c *commandContext) environment(ctx context.Context, name string) (*Environment, error) {
	if e, ok := c.envs[name]; ok {
		return e, nil
	}
	e, err := c.tx.FindEnvironment(ctx, name)
	if err != nil {
		return nil, err
	}
	if c.envs == nil {
		c.envs = make(map[string]*Environment)
	}
	c.envs[name] = e
	return e, nil
}

// lockApplies reports whether lock l holds back app of team in its
// environment.
func lockApplies(l *Lock, app, team string) bool {
	switch l.Kind {
	case LockEnvironment:
		return true
	case LockApplication:
		return l.Application == app
	case LockTeam:
		return team != "" && l.Team == team
	}
	return false
}

// lockBlocker describes a lock as a blocker.
func lockBlocker(l *Lock) Blocker {
	var what string
	switch l.Kind {
	case LockEnvironment:
		what = fmt.Sprintf("environment lock %q on %s", l.ID, l.Environment)
	case LockApplication:
		what = fmt.Sprintf("application lock %q on %s in %s", l.ID, l.Application, l.Environment)
	case LockTeam:
		what = fmt.Sprintf("team lock %q on team %s in %s", l.ID, l.Team, l.Environment)
	}
	// The message's first line only: a blocker is one line wherever it
	// shows (queued deployments, errors, the CLI); the lock has it all.
	return Blocker{Kind: l.Kind, Lock: l, Description: fmt.Sprintf("%s by %s: %s", what, l.CreatedBy.Name, excerpt(l.Message, maxMessageExcerpt))}
}

// describeBlockers joins blocker descriptions for a message.
func describeBlockers(blockers []Blocker) string {
	parts := make([]string, len(blockers))
	for i, b := range blockers {
		parts[i] = b.Description
	}
	return strings.Join(parts, "; ")
}
