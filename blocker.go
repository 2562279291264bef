package railyard

import (
	"context"
	"fmt"
	"strings"
	"time"
)

// Blocker is one reason automation may not deploy an application to an
// environment now: a lock or a closed deploy window.
type Blocker struct {
	// Kind is the lock kind, or BlockerWindow.
	Kind LockKind `json:"kind"`
	// Lock is set for lock blockers.
	Lock *Lock `json:"lock,omitempty"`
	// Window is set for deploy window blockers: the deny window that is
	// open, or the allow window that opens next.
	Window *DeployWindow `json:"window,omitempty"`
	// Until is set for window blockers when it is known: when the
	// environment's windows next allow automatic deployments.
	Until *time.Time `json:"until,omitempty"`
	// Description says it in words: "environment lock \"freeze\" by alice: Black Friday".
	Description string `json:"description"`
}

// BlockerWindow is the Kind of a blocker that is a closed deploy window.
const BlockerWindow LockKind = "window"

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
		if l.applies(app, team) {
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

// blockedWhy says in two words what kinds of blocker hold a version back:
// "locked", "deploy window closed" or both.
func blockedWhy(blockers []Blocker) string {
	locked, window := false, false
	for _, b := range blockers {
		if b.Kind == BlockerWindow {
			window = true
		} else {
			locked = true
		}
	}
	switch {
	case locked && window:
		return "locked, deploy window closed"
	case window:
		return "deploy window closed"
	}
	return "locked"
}

// blockerNames lists blockers briefly: `lock "freeze"`, `team lock "x"`.
func blockerNames(blockers []Blocker) string {
	names := make([]string, len(blockers))
	for i, b := range blockers {
		names[i] = blockerName(b)
	}
	return strings.Join(names, ", ")
}

// blockerName names one blocker briefly: `environment lock "freeze"`,
// `deny window "0 9 * * *"`.
func blockerName(b Blocker) string {
	if b.Window != nil {
		s := fmt.Sprintf("%s window %q", b.Window.Kind, shorten(b.Window.Schedule, maxScheduleLabel))
		if b.Window.Kind == DeployWindowAllow {
			s = "outside " + s
		}
		return s
	}
	if b.Lock != nil {
		switch b.Kind {
		case LockEnvironment:
			return fmt.Sprintf("environment lock %q", b.Lock.ID)
		case LockApplication:
			return fmt.Sprintf("application lock %q", b.Lock.ID)
		case LockTeam:
			return fmt.Sprintf("team lock %q", b.Lock.ID)
		}
	}
	return b.Description
}

// countBlockers says how many locks and windows block: "3 locks", "2
// locks and 1 deploy window".
func countBlockers(blockers []Blocker) string {
	locks, windows := 0, 0
	for _, b := range blockers {
		if b.Kind == BlockerWindow {
			windows++
		} else {
			locks++
		}
	}
	switch {
	case windows == 0:
		return countOf(locks, "lock")
	case locks == 0:
		return countOf(windows, "deploy window")
	}
	return countOf(locks, "lock") + " and " + countOf(windows, "deploy window")
}

// blockerDetails is one line per blocker, each starting with what: "Blocked
// by environment lock "freeze"".
func blockerDetails(what string, blockers []Blocker) []string {
	lines := make([]string, len(blockers))
	for i, b := range blockers {
		lines[i] = what + " " + blockerName(b)
	}
	return lines
}
