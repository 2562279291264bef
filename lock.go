package railyard

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"
)

// LockKind says what a lock holds back.
type LockKind string

// Lock kinds. A group lock is not stored as such: it creates an environment
// lock with the same id in every member environment of the group.
const (
	LockEnvironment LockKind = "environment"
	LockApplication LockKind = "application"
	LockTeam        LockKind = "team"
	LockGroup       LockKind = "environment-group"
)

// LockTarget says which lock: what it holds back (Kind), where
// (Environment, or Group for an environment-group lock), for whom
// (Application of an application lock, Team of a team lock), and its ID.
// It is the one description of "which lock" that the lock, its key, the
// filter, the lock commands and the HTTP client share. Embedded, its
// fields are fields of the outer JSON object.
type LockTarget struct {
	Kind        LockKind `json:"kind"`
	Environment string   `json:"environment,omitempty"`
	Group       string   `json:"group,omitempty"`
	Application string   `json:"application,omitempty"`
	Team        string   `json:"team,omitempty"`
	ID          string   `json:"id"`
}

// lockTargetFields are the fields a lock kind needs besides the id; the
// others must be empty.
var lockTargetFields = map[LockKind][]string{
	LockEnvironment: {"environment"},
	LockApplication: {"environment", "application"},
	LockTeam:        {"environment", "team"},
	LockGroup:       {"group"},
}

// validate checks that exactly the fields the kind needs are set, and
// that they and the id are valid.
func (t LockTarget) validate() error {
	fields, ok := lockTargetFields[t.Kind]
	if !ok {
		return Errorf(EINVALID, "kind %q is not a lock kind: use environment, application, team or environment-group", t.Kind).WithField("kind")
	}
	values := map[string]string{"environment": t.Environment, "group": t.Group, "application": t.Application, "team": t.Team}
	for _, f := range []string{"environment", "group", "application", "team"} {
		needed := slices.Contains(fields, f)
		switch {
		case needed && values[f] == "":
			return Errorf(EINVALID, "%s must be set for a%s %s lock", f, article(string(t.Kind)), t.Kind).WithField(f)
		case !needed && values[f] != "":
			return Errorf(EINVALID, "%s must not be set for a%s %s lock", f, article(string(t.Kind)), t.Kind).WithField(f)
		}
	}
	validators := map[string]func(string) error{
		"environment": ValidateEnvironmentName,
		"group":       func(g string) error { return validateLabel("group", g, MaxEnvironmentNameLength) },
		"application": ValidateApplicationName, "team": ValidateTeamName,
	}
	for _, f := range fields {
		if err := validators[f](values[f]); err != nil {
			return err
		}
	}
	return ValidateLockID(t.ID)
}

func article(word string) string {
	if strings.ContainsRune("aeiou", rune(word[0])) {
		return "n"
	}
	return ""
}

// describe names what the lock holds: "production", "checkout in
// production", "team payments in production", "environment group prod".
func (t LockTarget) describe() string {
	switch t.Kind {
	case LockApplication:
		return fmt.Sprintf("%s in %s", t.Application, t.Environment)
	case LockTeam:
		return fmt.Sprintf("team %s in %s", t.Team, t.Environment)
	case LockGroup:
		return fmt.Sprintf("environment group %s", t.Group)
	}
	return t.Environment
}

// in returns the target of the lock stored in env: a group lock is an
// environment lock in every member environment.
func (t LockTarget) in(env string) LockTarget {
	if t.Kind == LockGroup {
		t.Kind, t.Group = LockEnvironment, ""
	}
	t.Environment = env
	return t
}

// applies reports whether a lock with this target holds back app of team
// in its environment.
func (t LockTarget) applies(app, team string) bool {
	switch t.Kind {
	case LockEnvironment:
		return true
	case LockApplication:
		return t.Application == app
	case LockTeam:
		return team != "" && t.Team == team
	}
	return false
}

// Lock stops automation from changing what runs: in a whole environment,
// for one application in an environment, or for one team's applications in
// an environment. Its target has an Environment and never a Group: a
// group lock is stored as an environment lock in every member.
type Lock struct {
	LockTarget
	Message   string     `json:"message"`
	CreatedBy Actor      `json:"createdBy"`
	CreatedAt time.Time  `json:"createdAt"`
	CILink    string     `json:"ciLink,omitempty"`
	ExpiresAt *time.Time `json:"expiresAt,omitempty"`
}

// Key returns the lock's identity.
func (l *Lock) Key() LockKey {
	return l.LockTarget
}

// Expired reports whether the lock's expiry has passed at now. An expired
// lock no longer blocks anything; Railyard removes it.
func (l *Lock) Expired(now time.Time) bool {
	return l.ExpiresAt != nil && !now.Before(*l.ExpiresAt)
}

// LockKey identifies a stored lock: the target of an environment,
// application or team lock, with Application set only for application
// locks and Team only for team locks.
type LockKey = LockTarget

// LockFilter selects locks by the fields of their target; empty fields
// match everything. Stored locks have no Group, so the engine refuses a
// filter with one (filter by Environment instead).
type LockFilter LockTarget

// MaxLockMessageBytes bounds a lock message.
const MaxLockMessageBytes = 4096

// CreateLock creates or replaces a lock. The target's Kind decides which
// of Environment, Group, Application and Team are needed: environment
// (Environment), application (Environment, Application), team
// (Environment, Team), environment-group (Group: an environment lock with
// this id in every member environment). The target's kind is
// LockTarget.Kind: the name Kind is the command's (Command.Kind).
type CreateLock struct {
	LockTarget
	Message   string     `json:"message"`
	CILink    string     `json:"ciLink,omitempty"`
	ExpiresAt *time.Time `json:"expiresAt,omitempty"`
}

// Kind implements Command.
func (*CreateLock) Kind() string { return KindLockCreate }

// Validate implements Command.
func (l *CreateLock) Validate() error {
	if err := l.LockTarget.validate(); err != nil {
		return err
	}
	if strings.TrimSpace(l.Message) == "" {
		return Errorf(EINVALID, "message must not be empty: say why you lock, so others know when it can go").WithField("message")
	}
	if len(l.Message) > MaxLockMessageBytes {
		return Errorf(EINVALID, "message is %d bytes; at most %d are allowed", len(l.Message), MaxLockMessageBytes).WithField("message")
	}
	if err := validateMultiline("message", l.Message); err != nil {
		return err
	}
	return validateLink("ciLink", l.CILink)
}

func (l *CreateLock) apply(ctx context.Context, c *commandContext) (*Result, error) {
	if l.ExpiresAt != nil && !l.ExpiresAt.After(c.now) {
		return nil, Errorf(EINVALID, "expiresAt %s is not in the future", describeTime(*l.ExpiresAt)).WithField("expiresAt")
	}
	envs, err := c.lockEnvironments(ctx, l.LockTarget)
	if err != nil {
		return nil, err
	}
	switch l.LockTarget.Kind {
	case LockApplication:
		if _, err := c.tx.FindApplication(ctx, l.Application); err != nil {
			return nil, err
		}
	case LockTeam:
		if err := c.requireTeam(ctx, l.Team); err != nil {
			return nil, err
		}
	}
	var created []*Lock
	for _, env := range envs {
		lock := &Lock{LockTarget: l.in(env), Message: l.Message, CreatedBy: c.actor, CreatedAt: c.now, CILink: l.CILink}
		if l.ExpiresAt != nil {
			t := normalizeTime(*l.ExpiresAt)
			lock.ExpiresAt = &t
		}
		if err := c.tx.PutLock(ctx, lock); err != nil {
			return nil, err
		}
		c.forgetLocks(env)
		c.change(Change{Op: ChangeLockPut, Environment: env, Application: l.Application, Lock: lock})
		created = append(created, lock)
	}
	d := describeLock(l.describe(), l.ID, l.Message)
	c.description = d.String()
	return &Result{Outcome: OutcomeCreated, Locks: created}, nil
}

// lockEnvironments returns the environments a lock applies to: the one
// named, or every member of the group (ENOTFOUND if there is none).
func (c *commandContext) lockEnvironments(ctx context.Context, t LockTarget) ([]string, error) {
	if t.Kind != LockGroup {
		if _, err := c.tx.FindEnvironment(ctx, t.Environment); err != nil {
			return nil, err
		}
		return []string{t.Environment}, nil
	}
	all, err := c.tx.FindEnvironments(ctx)
	if err != nil {
		return nil, err
	}
	var members []string
	for _, e := range all {
		if e.Config.EnvironmentGroup == t.Group {
			members = append(members, e.Name)
		}
	}
	if len(members) == 0 {
		return nil, Errorf(ENOTFOUND, "environment group %q not found: no environment has environmentGroup %q", t.Group, t.Group).WithField("group")
	}
	return members, nil
}

// requireTeam returns ENOTFOUND unless some application belongs to team.
func (c *commandContext) requireTeam(ctx context.Context, team string) error {
	apps, err := c.tx.FindApplications(ctx)
	if err != nil {
		return err
	}
	for _, a := range apps {
		if a.Team == team {
			return nil
		}
	}
	return Errorf(ENOTFOUND, "team %q not found: no application belongs to it", team).WithField("team")
}

// describeLock says what creating a lock did: "Lock production
// (freeze): Black Friday". The summary quotes the message's first line
// as far as it fits; when it cannot quote all of the message, the
// message's lines are the details, quoted with "> " so that no line of a
// person's text can pass for a commit trailer.
func describeLock(target, id, message string) Description {
	head := fmt.Sprintf("Lock %s (%s)", target, id)
	quote := excerpt(message, maxMessageExcerpt)
	summary := head + ": " + quote
	if room := MaxSummaryLength - utf8.RuneCountInString(head+": "); !fits(summary) && room >= minQuote {
		quote = shorten(quote, room)
		summary = head + ": " + quote
	} else if !fits(summary) {
		quote, summary = "", head
	}
	if quote == oneLine(message) {
		return NewDescription(summary)
	}
	var quoted []string
	for _, l := range strings.Split(message, "\n") {
		if l = oneLine(l); l != "" {
			quoted = append(quoted, "> "+l)
		}
	}
	return NewDescription(summary, quoted...)
}

// minQuote is the shortest quote of a lock message worth a summary.
const minQuote = 12

// DeleteLock deletes a lock (for a group: the environment lock with that
// id in every member environment). Queued versions whose last blocker it
// was are deployed in the same event. Its kind is LockTarget.Kind, as for
// CreateLock.
type DeleteLock struct {
	LockTarget
}

// Kind implements Command.
func (*DeleteLock) Kind() string { return KindLockDelete }

// Validate implements Command.
func (l *DeleteLock) Validate() error {
	return l.LockTarget.validate()
}

func (l *DeleteLock) apply(ctx context.Context, c *commandContext) (*Result, error) {
	envs, err := c.lockEnvironments(ctx, l.LockTarget)
	if err != nil {
		return nil, err
	}
	var deployed queuedDeploys
	for _, env := range envs {
		key := l.in(env)
		locks, err := c.tx.FindLocks(ctx, LockFilter(key))
		if err != nil {
			return nil, err
		}
		if len(locks) == 0 {
			if l.LockTarget.Kind == LockGroup {
				continue // members without the lock are fine
			}
			return nil, Errorf(ENOTFOUND, "%s lock %q not found on %s", key.Kind, l.ID, key.describe()).WithField("lockId")
		}
		if err := c.deleteLock(ctx, locks[0], ""); err != nil {
			return nil, err
		}
		d, err := c.processQueues(ctx, env, locks[0].applies)
		if err != nil {
			return nil, err
		}
		for _, label := range d {
			deployed.add(label, env, "")
		}
	}
	if len(c.changes) == 0 {
		return nil, Errorf(ENOTFOUND, "lock %q not found in any environment of group %s", l.ID, l.Group).WithField("lockId")
	}
	head := fmt.Sprintf("Unlock %s (%s)", l.describe(), l.ID)
	if len(deployed) == 0 {
		c.describe("%s", head)
	} else {
		// The environment is named by the lock, unless it was a group's.
		implied := ""
		if l.LockTarget.Kind != LockGroup {
			implied = l.Environment
		}
		c.describeScaled(head+", deploy queued "+deployed.names(), head+", deploy "+deployed.count(implied), deployed.details())
	}
	return &Result{Outcome: OutcomeDeleted}, nil
}

// deleteLock deletes a lock and records it.
func (c *commandContext) deleteLock(ctx context.Context, l *Lock, reason string) error {
	if err := c.tx.DeleteLock(ctx, l.Key()); err != nil {
		return err
	}
	c.forgetLocks(l.Environment)
	c.change(Change{Op: ChangeLockDelete, Environment: l.Environment, Application: l.Application, Lock: l, Reason: reason})
	return nil
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
