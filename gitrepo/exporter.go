package gitrepo

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/railyard-cd/railyard"
	"github.com/railyard-cd/railyard/argocd"
	"github.com/railyard-cd/railyard/gitrepo/internal/gitcli"
	"github.com/railyard-cd/railyard/gitrepo/internal/pack"
)

// DefaultGitTimeout is the deadline of a git command when Config.GitTimeout
// is not set: long enough for a push of a full batch to a slow host, short
// enough that a hung remote shows in the export status within minutes.
const DefaultGitTimeout = 2 * time.Minute

// EventSource is what the exporter reads: the event log, and releases as
// a fallback. *railyard.Engine implements it.
type EventSource interface {
	FindEvents(ctx context.Context, filter railyard.EventFilter) ([]*railyard.Event, error)
	LastEventID(ctx context.Context) (int64, error)
	FindRelease(ctx context.Context, app string, version int64) (*railyard.Release, error)
	Subscribe() (<-chan struct{}, func())
}

// Config configures an Exporter.
type Config struct {
	// Dir is the exporter's own bare repository (created if missing).
	// With a RemoteURL it is a cache of the remote (deleting it is safe);
	// without one it is the manifest repository itself.
	Dir string
	// RemoteURL is any URL the git command line supports: a path,
	// file://, https:// or ssh://. Empty means that Dir is the manifest
	// repository (the embedded default): batches are committed in place
	// and the branch moves by compare-and-swap, with nothing to push.
	RemoteURL string
	// Branch is the branch Railyard writes; default "main".
	Branch string
	// Token, for https remotes, is sent as HTTP basic auth with user
	// TokenUser (default "x-access-token", which GitHub, GitLab and Gitea
	// accept). It is passed to git through its environment, never on the
	// command line, and never logged.
	Token     string
	TokenUser string
	// SSHKeyFile and KnownHostsFile, for ssh remotes. Host keys are always
	// checked.
	SSHKeyFile     string
	KnownHostsFile string
	// CAFile, for https remotes, is a PEM file of the certificate
	// authorities to trust instead of the system's (a private Git host).
	CAFile string
	// ArgoCD says where Argo CD reads the repository from; RepoURL
	// defaults to RemoteURL without its password.
	ArgoCD argocd.Options
	// BatchSize is the most events one push carries; default 500.
	BatchSize int
	// MinBackoff and MaxBackoff bound the wait between failed attempts;
	// defaults 500ms and 1 minute.
	MinBackoff, MaxBackoff time.Duration
	// PollInterval is how often Run looks for events when no commit
	// signal arrives (a safety net); default 5s.
	PollInterval time.Duration
	// RepackEvery is how many batches Run exports between background
	// repacks of Dir; default 8.
	RepackEvery int
	// GitTimeout is the deadline of every git command (for the long-lived
	// cat-file, of every request to it): a command still running then is
	// killed with every process it started, and the attempt is retried
	// with backoff. Default DefaultGitTimeout; background repacks, which
	// read the whole repository, get ten times as long.
	GitTimeout time.Duration
	// Now is the clock; default time.Now.
	Now    railyard.Clock
	Logger *slog.Logger
}

// Exporter turns the event log into commits of the manifest repository:
// one commit per event, in event order, exactly once, pushed in batches.
// Sync and Run must not be called concurrently; Status may be called from
// any goroutine.
type Exporter struct {
	src EventSource
	cfg Config
	git *gitcli.Git
	idx *index

	// base is the commit the next batch builds on ("" before the first
	// commit), exported the event id it contains; ready is false until
	// they have been read from the remote.
	base     string
	exported int64
	ready    bool
	batches  int
	// limit is how many events the next batch reads (see nextLimit).
	limit int

	mu     sync.Mutex
	status railyard.ExportStatus

	// openWriter starts the writer of a batch: openTailWriter, or in
	// tests openPackWriter or the fast-import oracle.
	openWriter openWriterFunc
	// tail is what the last batch left the next (build.go).
	tail *pack.Tail

	// failAt lets tests crash the exporter between the steps of a push.
	failAt func(step string) error
	// afterRepack, for tests, is called after each background repack.
	afterRepack func(error)
}

// Steps of a push at which tests inject failures.
const (
	stepStaged = "staged" // commits written locally while the batch before may still be pushing
	stepBuilt  = "built"  // commits written locally, not pushed
	stepPushed = "pushed" // pushed, local branch not yet moved
)

// errRejected is a push the remote refused because its branch moved.
var errRejected = errors.New("push rejected: the remote branch has commits Railyard does not have")

// emptyTree is Git's well-known empty tree: lookups before the first
// commit read from it and find nothing.
const emptyTree = "4b825dc642cb6eb9a060e54bf8d69288fbee4904"

// NewExporter returns an exporter of src's events. Call Open before use.
func NewExporter(src EventSource, cfg Config) *Exporter {
	if cfg.Branch == "" {
		cfg.Branch = "main"
	}
	if cfg.ArgoCD.RepoURL == "" {
		// Argo CD clones what Railyard pushes to, unless told otherwise.
		cfg.ArgoCD.RepoURL = PublicURL(cfg.RemoteURL)
	}
	if cfg.TokenUser == "" {
		cfg.TokenUser = "x-access-token"
	}
	if cfg.BatchSize <= 0 {
		cfg.BatchSize = 500
	}
	if cfg.MinBackoff <= 0 {
		cfg.MinBackoff = 500 * time.Millisecond
	}
	if cfg.MaxBackoff <= 0 {
		cfg.MaxBackoff = time.Minute
	}
	if cfg.PollInterval <= 0 {
		cfg.PollInterval = 5 * time.Second
	}
	if cfg.RepackEvery <= 0 {
		cfg.RepackEvery = 32
	}
	if cfg.GitTimeout <= 0 {
		cfg.GitTimeout = DefaultGitTimeout
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	x := &Exporter{src: src, cfg: cfg, idx: newIndex()}
	x.openWriter = x.openTailWriter
	x.limit = min(firstLimit, cfg.BatchSize)
	x.git = &gitcli.Git{Dir: cfg.Dir, Env: remoteEnv(cfg), Timeout: cfg.GitTimeout}
	x.status.Enabled = true
	x.status.State = railyard.ExportStateOK
	x.status.Remote = RedactURL(cfg.RemoteURL)
	if x.local() {
		x.status.Remote = cfg.Dir
	}
	x.status.Branch = cfg.Branch
	return x
}

// local reports whether Dir is the manifest repository itself.
func (x *Exporter) local() bool { return x.cfg.RemoteURL == "" }

// Open creates the exporter's repository if it does not exist, and
// removes what an export killed halfway left in it.
func (x *Exporter) Open(ctx context.Context) error {
	if x.cfg.Dir == "" {
		return fmt.Errorf("gitrepo: no repository directory configured")
	}
	if IsPlainHTTP(x.cfg.RemoteURL) && (x.cfg.Token != "" || HasCredentials(x.cfg.RemoteURL)) {
		return fmt.Errorf("gitrepo: refusing to send Git credentials to %s over unencrypted http: use https", RedactURL(x.cfg.RemoteURL))
	}
	if _, err := os.Stat(x.cfg.Dir); os.IsNotExist(err) {
		if err := InitBare(ctx, x.cfg.Dir, x.cfg.Branch); err != nil {
			return err
		}
	}
	if err := removeTemporaryFiles(x.cfg.Dir); err != nil {
		return fmt.Errorf("gitrepo: %w", err)
	}
	if err := pack.RemoveTailKeeps(ctx, x.git); err != nil {
		return fmt.Errorf("gitrepo: %w", err)
	}
	// The exporter repacks in the background itself (maintain.go); git's
	// automatic gc, which fetch starts detached, would be a second writer
	// that outlives the process.
	for _, kv := range [][2]string{
		{"core.logAllRefUpdates", "false"},
		{"gc.auto", "0"},
		{"maintenance.auto", "false"},
	} {
		if _, err := x.git.Run(ctx, "config", kv[0], kv[1]); err != nil {
			return fmt.Errorf("gitrepo: configure %s: %w", x.cfg.Dir, err)
		}
	}
	// The built-in Git server serves this repository: it shows only the
	// branches, never the exporter's work refs or the fetched remote.
	x.git.Run(ctx, "config", "--unset-all", "uploadpack.hideRefs") // absent the first time
	for _, kv := range [][2]string{
		{"uploadpack.hideRefs", "refs/railyard"},
		{"uploadpack.hideRefs", "refs/remotes"},
	} {
		if _, err := x.git.Run(ctx, "config", "--add", kv[0], kv[1]); err != nil {
			return fmt.Errorf("gitrepo: configure %s: %w", x.cfg.Dir, err)
		}
	}
	return nil
}

// InitBare creates a bare repository whose default branch is branch.
func InitBare(ctx context.Context, dir, branch string) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("gitrepo: %w", err)
	}
	g := &gitcli.Git{Dir: dir, Timeout: DefaultGitTimeout}
	if _, err := g.Run(ctx, "init", "--quiet", "--bare", "--initial-branch="+branch); err != nil {
		return fmt.Errorf("gitrepo: init %s: %w", dir, err)
	}
	return nil
}

// Dir returns the exporter's repository, which the Git server serves.
func (x *Exporter) Dir() string { return x.cfg.Dir }

// Sync exports every pending event and returns when the remote has them
// all, or on the first error (the next Sync resumes where it stopped). A
// panic while exporting is recovered and returned as an error naming the
// event: the exporter never takes the process down.
func (x *Exporter) Sync(ctx context.Context) (err error) {
	defer func() {
		if v := recover(); v != nil {
			x.ready = false // rebuild the index from the repository
			err = recovered(0, v)
		}
		x.record(ctx, err)
	}()
	return x.sync(ctx)
}

// maxRebuilds is how often one Sync fetches and rebuilds after rejected
// pushes before it leaves the rest to Run's backoff.
const maxRebuilds = 3

func (x *Exporter) sync(ctx context.Context) (err error) {
	rebuilds := 0
	// While a batch is built and published, the next one is read from
	// the database: decoding events is a third of export's CPU, and the
	// two use different cores. While a batch is pushed, the next one is
	// built (pipeline.go).
	var next <-chan fetchedEvents
	var pushing *batchPush
	defer func() {
		if next != nil {
			<-next
		}
		if pushing != nil {
			if perr := x.settle(ctx, pushing); err == nil {
				err = perr
			}
		}
	}()
	// settled waits for the push in flight; rejected pushes are rebuilt
	// (retry) a few times before the error is left to Run's backoff.
	settled := func() (retry bool, err error) {
		p := pushing
		if pushing = nil; p == nil {
			return false, nil
		}
		if err := x.settle(ctx, p); err != nil {
			if errors.Is(err, errRejected) && rebuilds < maxRebuilds {
				rebuilds++
				x.cfg.Logger.Info("the manifest branch moved under Railyard (someone else pushed), rebuilding on its new head", "repository", x.status.Remote)
				return true, nil
			}
			return false, err
		}
		return false, nil
	}
	for {
		if !x.ready {
			if err := x.resume(ctx); err != nil {
				return err
			}
		}
		var f fetchedEvents
		prefetched := next != nil
		if prefetched {
			f, next = <-next, nil
		}
		if !prefetched || f.after != x.exported { // none, or a rebuild went back
			f = x.readEvents(ctx, x.exported, x.limit)
		}
		if f.err != nil {
			return fmt.Errorf("read events: %w", f.err)
		}
		if len(f.events) == 0 {
			if pushing == nil {
				return nil
			}
			if _, err := settled(); err != nil {
				return err
			}
			continue // events may have come while it pushed
		}
		x.limit = nextLimit(x.limit, x.cfg.BatchSize, f.events)
		next = x.prefetch(ctx, f.events[len(f.events)-1].ID, x.limit)
		p, failed, err := x.stage(ctx, f.events)
		if err != nil {
			// What failed is exported up to the failing event, on
			// what is pushed.
			if _, perr := settled(); perr != nil {
				return perr
			}
			if x.ready {
				return x.buildFailed(ctx, f.events, failed, err)
			}
			continue // a rejected push: rebuild on the new head
		}
		if err := x.fail(stepStaged); err != nil {
			return err
		}
		if retry, err := settled(); retry || err != nil {
			if err != nil {
				return err
			}
			continue
		}
		if err := x.advance(p); err != nil {
			return err
		}
		x.start(ctx, p)
		pushing = p
	}
}

// fetchedEvents is a batch of events read after an event id.
type fetchedEvents struct {
	after  int64
	events []*railyard.Event
	err    error
}

// readEvents reads the batch of at most limit events after id.
func (x *Exporter) readEvents(ctx context.Context, after int64, limit int) fetchedEvents {
	limit = max(1, min(limit, x.cfg.BatchSize))
	events, err := x.src.FindEvents(ctx, railyard.EventFilter{AfterID: after, Ascending: true, Limit: limit})
	return fetchedEvents{after: after, events: events, err: err}
}

// prefetch reads the batch of events after id in the background. A panic
// there is returned as the batch's error: a goroutine's panic could not
// be recovered by Sync.
func (x *Exporter) prefetch(ctx context.Context, after int64, limit int) <-chan fetchedEvents {
	ch := make(chan fetchedEvents, 1)
	go func() {
		defer func() {
			if v := recover(); v != nil {
				ch <- fetchedEvents{after: after, err: recovered(0, v)}
			}
		}()
		ch <- x.readEvents(ctx, after, limit)
	}()
	return ch
}

// zeroOID is the value update-ref expects of a ref that must not exist.
const zeroOID = "0000000000000000000000000000000000000000"

// publish makes tip, built on base, the head of the published branch: a
// push to the remote, or in a local repository a compare-and-swap of the
// branch from base to tip, which fails with errRejected if anyone moved
// it.
func (x *Exporter) publish(ctx context.Context, base, tip string) error {
	if !x.local() {
		return x.push(ctx, tip)
	}
	ref := "refs/heads/" + x.cfg.Branch
	old := base
	if old == "" {
		old = zeroOID
	}
	if _, err := x.git.Run(ctx, "update-ref", ref, tip, old); err != nil {
		if x.resolve(ctx, ref) != base {
			return errRejected
		}
		return fmt.Errorf("move branch %s of %s: %w", x.cfg.Branch, x.cfg.Dir, err)
	}
	return nil
}

// resolve returns the commit ref points at, "" if it does not exist.
func (x *Exporter) resolve(ctx context.Context, ref string) string {
	out, err := x.git.Run(ctx, "rev-parse", "--verify", "--quiet", ref+"^{commit}")
	if err != nil {
		return ""
	}
	return strings.TrimSpace(out)
}

func (x *Exporter) fail(step string) error {
	if x.failAt == nil {
		return nil
	}
	return x.failAt(step)
}

// exportRef is the exporter's work ref: batches are built there and pushed
// from there; the branch moves only after a successful push.
const exportRef = "refs/railyard/export"

// build writes the events as commits on the exporter's work ref and
// returns the new tip. If writing an event fails, it returns the index of
// that event in events (else -1). Whatever happens, a batch that does not
// finish leaves no pack behind and no process running.
func (x *Exporter) build(ctx context.Context, events []*railyard.Event) (tip string, failed int, err error) {
	var base pack.ID
	if x.base != "" {
		if base, err = pack.ParseID(x.base); err != nil {
			return "", -1, err
		}
	}
	w, err := x.openWriter(ctx, x.git, exportRef, base)
	if err != nil {
		return "", -1, err
	}
	finished := false
	defer func() {
		if !finished {
			w.Abort()
		}
	}()
	cat, closeCat, err := batchCat(ctx, x.git, w)
	if err != nil {
		return "", -1, err
	}
	defer closeCat()
	lookupBase := x.base
	if lookupBase == "" {
		lookupBase = emptyTree
	}
	b := &builder{fi: w, cat: cat, base: lookupBase, idx: x.idx, argo: x.cfg.ArgoCD, rels: x.src, blobs: map[string]pack.ID{}}
	for i, ev := range events {
		if err := ctx.Err(); err != nil {
			return "", i, err // a long batch stops between two commits
		}
		if err := b.commitRecovering(ctx, ev); err != nil {
			return "", i, err
		}
	}
	finished = true
	if err := w.Finish(ctx); err != nil {
		return "", -1, err
	}
	x.keepTail(w)
	tip, err = x.batchTip(ctx, w)
	return tip, -1, err
}

// push pushes tip to the remote branch, refusing anything but a
// fast-forward.
func (x *Exporter) push(ctx context.Context, tip string) error {
	args := append(slices.Clone(pushConfig), "push", "--porcelain", "--quiet", remoteName, tip+":refs/heads/"+x.cfg.Branch)
	out, err := x.git.WithNice(pushNice).Run(ctx, args...)
	if err == nil {
		return nil
	}
	if strings.Contains(out, "[rejected]") || strings.Contains(out, "[remote rejected]") && strings.Contains(out, "fetch first") {
		return errRejected
	}
	var ge *gitcli.Error
	if errors.As(err, &ge) && (strings.Contains(ge.Stderr, "[rejected]") || strings.Contains(ge.Stderr, "fetch first") || strings.Contains(ge.Stderr, "non-fast-forward")) {
		return errRejected
	}
	if gitcli.IsTimeout(err) {
		return remoteTimeout(err, "git push to", x.cfg.RemoteURL)
	}
	return fmt.Errorf("cannot push to the manifest repository %s: %w", RedactURL(x.cfg.RemoteURL), err)
}

// Run exports until ctx ends: after every commit signal, on a poll
// interval, and with exponential backoff after failures. It never exits
// on a Git error: the API keeps working and export catches up later.
func (x *Exporter) Run(ctx context.Context) {
	signal, cancel := x.src.Subscribe()
	defer cancel()
	maint := &repacker{x: x}
	defer maint.wait()
	defer x.releaseTail()
	backoff := time.Duration(0)
	for {
		before := x.batches
		err := x.Sync(ctx)
		if ctx.Err() != nil {
			return
		}
		maint.batchesDone(ctx, x.batches-before)
		wait := x.cfg.PollInterval
		switch {
		case err != nil:
			// Sync already rebuilt after rejected pushes a few times;
			// whatever failed now waits on the backoff schedule. What
			// needs a person is checked again on the longest wait only.
			backoff = min(max(backoff*2, x.cfg.MinBackoff), x.cfg.MaxBackoff)
			if isStopped(err) {
				backoff = x.cfg.MaxBackoff
			}
			wait = backoff
			x.cfg.Logger.Error("git export failed", "error", Redact(err.Error()), "state", stateOf(err), "retry_in", backoff.String())
		default:
			backoff = 0
		}
		if wait == 0 {
			continue
		}
		if !x.wait(ctx, signal, wait, err == nil) {
			return
		}
	}
}

// wait waits for d, or for a commit signal if wakeOnSignal (a failing
// remote is retried on the backoff schedule, not on every commit). It
// returns false when ctx ends.
func (x *Exporter) wait(ctx context.Context, signal <-chan struct{}, d time.Duration, wakeOnSignal bool) bool {
	timer := time.NewTimer(d)
	defer timer.Stop()
	if !wakeOnSignal {
		signal = nil
	}
	select {
	case <-ctx.Done():
		return false
	case <-signal:
	case <-timer.C:
	}
	return true
}

// Status returns the export state.
func (x *Exporter) Status(ctx context.Context) (railyard.ExportStatus, error) {
	x.mu.Lock()
	st := x.status
	x.mu.Unlock()
	last, err := x.src.LastEventID(ctx)
	if err != nil {
		return st, err
	}
	st.LastEventID = last
	if st.LastExportedEventID < last {
		st.PendingEvents = last - st.LastExportedEventID
		next, err := x.src.FindEvents(ctx, railyard.EventFilter{AfterID: st.LastExportedEventID, Ascending: true, Limit: 1})
		if err != nil {
			return st, err
		}
		if len(next) > 0 {
			st.OldestPendingSeconds = x.cfg.Now().Sub(next[0].Time).Seconds()
		}
	}
	return st, nil
}
