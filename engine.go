package railyard

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"sync"
	"time"

	"github.com/railyard-cd/railyard/internal/jsonstrict"
)

// DefaultKeepReleases is how many releases of an application are kept
// besides those deployed or queued somewhere.
const DefaultKeepReleases = 20

// Engine applies commands to a Store: the rules of Railyard. It is safe
// for concurrent use; the Store serializes its Update transactions.
type Engine struct {
	store Store

	// Now is the clock; defaults to time.Now.
	Now Clock
	// KeepReleases is how many releases of an application are kept
	// besides deployed and queued ones; 0 means DefaultKeepReleases.
	KeepReleases int
	// MaxManifestBytes limits one manifest; 0 means DefaultMaxManifestBytes.
	MaxManifestBytes int

	notifier notifier
	// overview is the last overview built (overview.go).
	overview overviewCache

	// trainPlanned, if set (by tests), is called after a release train
	// was planned on a snapshot, before it catches up and is written.
	trainPlanned func()
}

// NewEngine returns an engine over store.
func NewEngine(store Store) *Engine {
	return &Engine{store: store, Now: time.Now}
}

// Command is one change to Railyard's state. The engine validates it,
// applies it inside a store transaction and records it as one event.
// The commands are the structs of this package (PutEnvironment,
// CreateRelease, Deploy, CreateLock, …); their JSON form is the payload
// of their event and the params of a batch entry.
type Command interface {
	// Kind names the command and its event, e.g. "release.create".
	Kind() string
	// Validate checks the command's own fields, without the store.
	Validate() error
	// apply makes the change through the command context.
	apply(ctx context.Context, c *commandContext) (*Result, error)
}

// Command kinds (also the kinds of their events).
const (
	KindEnvironmentPut    = "environment.put"
	KindEnvironmentDelete = "environment.delete"
	KindReleaseCreate     = "release.create"
	KindApplicationDelete = "application.delete"
	KindDeploy            = "deploy"
	KindLockCreate        = "lock.create"
	KindLockDelete        = "lock.delete"
	KindLockExpire        = "lock.expire"
	KindReleaseTrain      = "release-train"
	KindRollback          = "rollback"
	KindReconcile         = "reconcile"
)

// EventKinds returns every event kind, in the order of the constants;
// KindLockExpire is the kind of events recorded before Reconcile took its
// place.
func EventKinds() []string {
	return []string{KindEnvironmentPut, KindEnvironmentDelete, KindReleaseCreate, KindApplicationDelete, KindDeploy,
		KindLockCreate, KindLockDelete, KindLockExpire, KindReleaseTrain, KindRollback, KindReconcile}
}

// Result outcomes.
const (
	OutcomeCreated   = "created"
	OutcomeUpdated   = "updated"
	OutcomeUnchanged = "unchanged"
	OutcomeDeleted   = "deleted"
	OutcomeDeployed  = "deployed"
	OutcomeQueued    = "queued"
)

// Result says what one command did.
type Result struct {
	Kind string `json:"kind"`
	// Outcome is one of the Outcome constants.
	Outcome string `json:"outcome"`
	// Event is the recorded event; nil when the command changed nothing
	// (an identical re-publish, a deploy of the running version).
	Event *Event `json:"event,omitempty"`
	// Release is set by release.create and deploy (without manifests).
	Release *Release `json:"release,omitempty"`
	// Deployment is set by deploy: the state after the command.
	Deployment *Deployment `json:"deployment,omitempty"`
	// Environment is set by environment.put.
	Environment *Environment `json:"environment,omitempty"`
	// Locks is set by lock.create: one lock, or one per member
	// environment for a group lock.
	Locks []*Lock `json:"locks,omitempty"`
	// Train is set by release-train: every environment and application
	// with what the train did.
	Train *TrainResult `json:"train,omitempty"`
}

// MaxBatchCommands is the most commands one batch may hold.
const MaxBatchCommands = 100

// BatchEntry is one command of a batch in its JSON form.
type BatchEntry struct {
	Kind   string          `json:"kind"`
	Params json.RawMessage `json:"params"`
}

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
	if t, ok := cmds[0].(*ReleaseTrain); ok && len(cmds) == 1 {
		return e.applyTrain(ctx, actor, t)
	}
	return e.applyInTx(ctx, actor, cmds, nil)
}

// applyInTx applies validated commands in one store transaction and
// records their events. prepared is a release train's plan made outside
// the transaction (see applyTrain), for a batch of that one train.
func (e *Engine) applyInTx(ctx context.Context, actor Actor, cmds []Command, prepared *preparedTrain) ([]*Result, error) {
	var results []*Result
	err := e.store.Update(ctx, func(tx Tx) error {
		results = make([]*Result, 0, len(cmds))
		now := normalizeTime(e.now())
		for i, cmd := range cmds {
			c := &commandContext{engine: e, tx: tx, now: now, actor: actor, prepared: prepared}
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

// DecodeCommand decodes the JSON params of a command of the given kind.
// Unknown fields are rejected, so that typos do not pass silently.
func DecodeCommand(kind string, params []byte) (Command, error) {
	var cmd Command
	switch kind {
	case KindEnvironmentPut:
		cmd = &PutEnvironment{}
	case KindEnvironmentDelete:
		cmd = &DeleteEnvironment{}
	case KindReleaseCreate:
		cmd = &CreateRelease{}
	case KindApplicationDelete:
		cmd = &DeleteApplication{}
	case KindDeploy:
		cmd = &Deploy{}
	case KindLockCreate:
		cmd = &CreateLock{}
	case KindLockDelete:
		cmd = &DeleteLock{}
	case KindReleaseTrain:
		cmd = &ReleaseTrain{}
	case KindRollback:
		cmd = &Rollback{}
	default:
		return nil, Errorf(EINVALID, "kind %q is not a command: use one of %s, %s, %s, %s, %s, %s, %s, %s, %s", kind,
			KindEnvironmentPut, KindEnvironmentDelete, KindReleaseCreate, KindApplicationDelete, KindDeploy, KindLockCreate, KindLockDelete,
			KindReleaseTrain, KindRollback).WithField("kind")
	}
	if err := DecodeJSONStrict(params, cmd); err != nil {
		return nil, err
	}
	return cmd, nil
}

// DecodeJSONStrict decodes one JSON value into v and refuses, with a
// message that names the field (EINVALID), everything encoding/json lets
// pass: unknown fields, fields given twice, field names in another case
// than their own ("VERSION" for "version"), invalid UTF-8 and lone UTF-16
// surrogates (which encoding/json silently turns into U+FFFD), and data
// after the value. See internal/jsonstrict.
func DecodeJSONStrict(data []byte, v any) error {
	return invalidField(jsonstrict.Decode(data, v))
}

// DecodeJSONLenient decodes like DecodeJSONStrict but ignores unknown
// fields, for the Kuberpult-compatible endpoints whose clients send
// fields Railyard does not use. Duplicates, wrong case and invalid UTF-8
// are still refused.
func DecodeJSONLenient(data []byte, v any) error {
	return invalidField(jsonstrict.DecodeLenient(data, v))
}

// invalidField turns the field error of a JSON decode into EINVALID with
// the field.
func invalidField(err error) error {
	var fe *jsonstrict.FieldError
	if errors.As(err, &fe) {
		return Errorf(EINVALID, "%s", fe.Message).WithField(fe.Field)
	}
	return err
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
	// prepared is a release train planned outside the transaction, to
	// be checked and applied (see applyTrain); nil otherwise.
	prepared *preparedTrain

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

// eventPayloader is a command whose event payload differs from the
// command as given.
type eventPayloader interface {
	eventPayload() any
}

// payloadOf returns what an event records as the command's payload.
func payloadOf(cmd Command) any {
	if p, ok := cmd.(eventPayloader); ok {
		return p.eventPayload()
	}
	return cmd
}

// notifier tells subscribers that new events were committed. A signal
// carries no data: subscribers read the event log from where they are.
// Each subscriber channel has a buffer of one, so a slow subscriber misses
// no wake-up and never blocks a commit.
type notifier struct {
	mu   sync.Mutex
	subs map[chan struct{}]struct{}
}

// Subscribe returns a channel that receives a signal after each commit
// that recorded events, and a function that ends the subscription.
func (e *Engine) Subscribe() (<-chan struct{}, func()) {
	ch := make(chan struct{}, 1)
	n := &e.notifier
	n.mu.Lock()
	if n.subs == nil {
		n.subs = make(map[chan struct{}]struct{})
	}
	n.subs[ch] = struct{}{}
	n.mu.Unlock()
	return ch, func() {
		n.mu.Lock()
		delete(n.subs, ch)
		n.mu.Unlock()
	}
}

// Subscribers counts the open subscriptions (Subscribe): what a reader of
// the commits holds in the engine, for tests and metrics.
func (e *Engine) Subscribers() int {
	e.notifier.mu.Lock()
	defer e.notifier.mu.Unlock()
	return len(e.notifier.subs)
}

// notify signals every subscriber without blocking.
func (n *notifier) notify() {
	n.mu.Lock()
	defer n.mu.Unlock()
	for ch := range n.subs {
		select {
		case ch <- struct{}{}:
		default:
		}
	}
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
