package gitrepo

import (
	"context"
	"fmt"
	"maps"
	"path"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/railyard-cd/railyard"
	"github.com/railyard-cd/railyard/argocd"
	"github.com/railyard-cd/railyard/gitrepo/internal/gitcli"
	"github.com/railyard-cd/railyard/gitrepo/internal/pack"
)

// EventTrailer is the commit trailer that carries the id of the event a
// commit exports; the exporter resumes after the newest one it finds.
const EventTrailer = "Railyard-Event"

// committer is the committer of every exported commit.
var committer = railyard.Actor{Name: "Railyard", Email: "railyard@localhost"}

// treeWriter writes the commits of one batch: *pack.Writer, whose
// methods these are, or in tests the fast-import oracle
// (packtest.FastImport), which must write the same commits.
type treeWriter interface {
	Blob(content []byte) pack.ID
	BeginCommit(c pack.Commit)
	Put(path string, mode pack.Mode, content []byte)
	PutBlob(path string, mode pack.Mode, blob pack.ID)
	Delete(path string)
	EndCommit()
	Err() error
	Finish(ctx context.Context) error
	Abort()
}

// openWriterFunc starts the writer of a batch of commits on base (the
// zero ID for none) that Finish makes the target of ref.
type openWriterFunc func(ctx context.Context, g *gitcli.Git, ref string, base pack.ID) (treeWriter, error)

// openPackWriter is the exporter's openWriterFunc.
func openPackWriter(ctx context.Context, g *gitcli.Git, ref string, base pack.ID) (treeWriter, error) {
	w, err := pack.Open(ctx, g, ref, base)
	if err != nil {
		return nil, err // not a nil *pack.Writer in a non-nil interface
	}
	return w, nil
}

// openTailWriter is the exporter's openWriterFunc: a pack writer that
// continues the tail the last batch left (see package pack's tail.go), so
// that the cost of a batch does not grow with the directories it changes.
func (x *Exporter) openTailWriter(ctx context.Context, g *gitcli.Git, ref string, base pack.ID) (treeWriter, error) {
	t := x.tail
	x.tail = nil // the writer owns it now
	if x.local() {
		// publish moves the branch itself, from the writer's Tip: the
		// work ref would cost a git process per batch and serve nothing.
		ref = ""
	}
	w, err := pack.Continue(ctx, g, ref, base, t)
	if err != nil {
		return nil, err // not a nil *pack.Writer in a non-nil interface
	}
	return w, nil
}

// keepTail keeps what a finished batch of w leaves the next one.
func (x *Exporter) keepTail(w treeWriter) {
	if tw, ok := w.(interface{ Tail() *pack.Tail }); ok {
		x.tail = tw.Tail()
	}
}

// batchCat returns the cat-file a batch's lookups read through: the
// writer's own if it has one (a git process fewer per batch), else a new
// one, which the returned function closes.
func batchCat(ctx context.Context, g *gitcli.Git, w treeWriter) (*gitcli.CatFile, func(), error) {
	if wc, ok := w.(interface{ CatFile() *gitcli.CatFile }); ok {
		return wc.CatFile(), func() {}, nil
	}
	cat, err := gitcli.OpenCatFile(ctx, g)
	if err != nil {
		return nil, nil, err
	}
	return cat, func() { cat.Close() }, nil
}

// batchTip returns the commit a finished batch of w ends with: the
// writer's last if it tells, else what the work ref points at.
func (x *Exporter) batchTip(ctx context.Context, w treeWriter) (string, error) {
	if wt, ok := w.(interface{ Tip() pack.ID }); ok && !wt.Tip().IsZero() {
		return wt.Tip().String(), nil
	}
	out, err := x.git.Run(ctx, "rev-parse", "--verify", exportRef)
	if err != nil {
		return "", err
	}
	return strings.TrimSpace(out), nil
}

// releaseTail gives up the tail, for the repack to roll it up.
func (x *Exporter) releaseTail() {
	x.tail.Release()
	x.tail = nil
}

// A batch's events are held in memory twice over, decoded, while the next
// batch is read: with 10 environments of 10 KB manifests, 500 release
// events are 100 MB. So batches are bounded by bytes as well as by
// Config.BatchSize: each read asks for as many events as fit batchBytes
// at the size of the events just read, and at most twice as many as the
// last read. A read that found fewer events than it asked for has caught
// up, and the next starts again at firstLimit: a new backlog of big events
// never arrives whole, and a burst of small ones reaches BatchSize after a
// few batches.
const (
	batchBytes = 8 << 20
	firstLimit = 16
)

// nextLimit returns how many events the read after events asks for,
// given the last read's limit and Config.BatchSize.
func nextLimit(last, batchSize int, events []*railyard.Event) int {
	n := 0
	for _, ev := range events {
		n += eventBytes(ev)
	}
	limit := 2 * last
	if len(events) < last {
		limit = firstLimit
	}
	if n > 0 {
		limit = min(limit, batchBytes*len(events)/n)
	}
	return max(1, min(limit, batchSize))
}

// eventBytes estimates the bytes an event holds: its payload, which has
// a release's manifests, and the manifests again in its changes.
func eventBytes(ev *railyard.Event) int {
	n := len(ev.Payload) + len(ev.Description)
	for i := range ev.Changes {
		if r := ev.Changes[i].Release; r != nil {
			for _, m := range r.Manifests {
				n += len(m)
			}
		}
	}
	return n
}

// signature is who did something at t, as a commit records it.
func signature(who railyard.Actor, t time.Time) pack.Signature {
	return pack.Signature{Name: who.Name, Email: who.Email, When: t}
}

// index is what the exporter knows of the repository beyond the events:
// each environment's config and deployed applications, each application's
// team. Entries are loaded lazily from the base commit and then kept up to
// date by every change the exporter writes; an entry that was never
// loaded was never changed by the exporter, so the base commit is still
// its truth. It holds metadata only, never manifests.
type index struct {
	envs  map[string]*envState
	teams map[string]string
}

// envState is one environment in the index; exists is false for an
// environment that is not in the repository.
type envState struct {
	exists bool
	env    railyard.Environment
	apps   map[string]bool // applications with a version here
}

func newIndex() *index {
	return &index{envs: map[string]*envState{}, teams: map[string]string{}}
}

// builder writes one batch of events as commits through a treeWriter on
// top of base, with a cat-file reader of base for lookups.
type builder struct {
	fi   treeWriter
	cat  *gitcli.CatFile
	base string // the base commit's id, or the empty tree's before the first commit
	idx  *index
	argo argocd.Options
	rels ReleaseSource
	// blobs holds the manifests this batch wrote, by their path in a
	// release directory: base, which lookups read, does not have them.
	blobs map[string]pack.ID
	ev    *railyard.Event // the event being written

	// per event: the Argo CD documents to re-render
	dirtyApps     map[[2]string]bool // (env, app)
	dirtyProjects map[string]bool
}

// ReleaseSource finds a release when its manifest is missing from the
// repository (someone deleted it by hand) and a deploy of it is exported:
// the exporter then takes the manifest from the database.
type ReleaseSource interface {
	FindRelease(ctx context.Context, app string, version int64) (*railyard.Release, error)
}

// env returns the index entry of env, loading it from base on first use.
func (b *builder) env(name string) (*envState, error) {
	if st, ok := b.idx.envs[name]; ok {
		return st, nil
	}
	st := &envState{apps: map[string]bool{}}
	cfg, ok, err := b.cat.Blob(b.base + ":" + envConfig(name))
	if err != nil {
		return nil, err
	}
	if ok {
		st.exists = true
		st.env.Name = name
		if err := railyard.DecodeJSONStrict(cfg, &st.env.Config); err != nil {
			return nil, fmt.Errorf("read %s: %v", envConfig(name), railyard.ErrorMessage(err))
		}
		apps, err := b.tree(b.base + ":" + path.Join(envDir(name), "applications"))
		if err != nil {
			return nil, err
		}
		for _, a := range apps {
			if !a.Mode.IsDir() {
				continue
			}
			entries, err := b.tree(a.ID.String())
			if err != nil {
				return nil, err
			}
			for _, e := range entries {
				if e.Name == "version" {
					st.apps[a.Name] = true
				}
			}
		}
	}
	b.idx.envs[name] = st
	return st, nil
}

// tree returns the entries of the tree at rev, nil if there is none.
func (b *builder) tree(rev string) ([]pack.Entry, error) {
	obj, err := b.cat.Read(rev)
	if err != nil || obj == nil {
		return nil, err
	}
	if obj.Kind != "tree" {
		return nil, fmt.Errorf("cat-file: %s is a %s, not a tree", rev, obj.Kind)
	}
	entries, err := pack.ParseTree(obj.Data)
	if err != nil {
		return nil, fmt.Errorf("cat-file: %s: %w", rev, err)
	}
	return entries, nil
}

// team returns the team of app, loading it from base on first use.
func (b *builder) team(app string) (string, error) {
	if t, ok := b.idx.teams[app]; ok {
		return t, nil
	}
	t, _, err := b.cat.Blob(b.base + ":" + appTeam(app))
	if err != nil {
		return "", err
	}
	b.idx.teams[app] = string(t)
	return string(t), nil
}

// commitRecovering is commit, returning a panic as an error that names the
// event: a malformed event must not take the process down.
func (b *builder) commitRecovering(ctx context.Context, ev *railyard.Event) (err error) {
	defer func() {
		if v := recover(); v != nil {
			err = recovered(ev.ID, v)
		}
	}()
	return b.commit(ctx, ev)
}

// commit writes one event as one commit, authored by the event's actor
// and committed by Railyard, both at the event's time.
func (b *builder) commit(ctx context.Context, ev *railyard.Event) error {
	b.ev = ev
	b.dirtyApps = map[[2]string]bool{}
	b.dirtyProjects = map[string]bool{}
	b.fi.BeginCommit(pack.Commit{Author: signature(ev.Actor, ev.Time), Committer: signature(committer, ev.Time), Message: commitMessage(ev)})
	for i := range ev.Changes {
		if err := b.apply(ctx, &ev.Changes[i]); err != nil {
			return fmt.Errorf("event %d (%s): %w", ev.ID, ev.Kind, err)
		}
	}
	if err := b.renderArgo(); err != nil {
		return fmt.Errorf("event %d: argo cd documents: %w", ev.ID, err)
	}
	b.fi.EndCommit()
	return b.fi.Err()
}

// commitMessage is the event's description, bounded: its summary as
// subject (at most railyard.MaxSummaryLength characters, also for events
// recorded before descriptions were bounded), its detail lines as body,
// then the trailers that make export exactly-once. The trailers are
// always the last paragraph, which is where git looks for them.
func commitMessage(ev *railyard.Event) string {
	d := railyard.ParseDescription(ev.Description)
	if d.Summary == "" {
		d.Summary = ev.Kind
	}
	var b strings.Builder
	b.WriteString(d.Summary + "\n\n")
	if body := d.Body(); body != "" {
		b.WriteString(body + "\n\n")
	}
	fmt.Fprintf(&b, "Railyard-Kind: %s\n%s: %d\n", ev.Kind, EventTrailer, ev.ID)
	return b.String()
}

// apply writes one change.
func (b *builder) apply(ctx context.Context, ch *railyard.Change) error {
	switch ch.Op {
	case railyard.ChangeEnvironmentPut:
		return b.putEnvironment(ch)
	case railyard.ChangeEnvironmentDelete:
		return b.deleteEnvironment(ch.Environment)
	case railyard.ChangeApplicationPut:
		return b.putApplication(ch.Application, ch.Team)
	case railyard.ChangeApplicationDelete:
		b.fi.Delete(appDir(ch.Application))
		b.idx.teams[ch.Application] = ""
		return nil
	case railyard.ChangeReleaseCreate:
		b.putRelease(ch.Release)
		return nil
	case railyard.ChangeReleaseDelete:
		b.deleteRelease(ch.Application, ch.Version)
		return nil
	case railyard.ChangeDeploy:
		return b.deploy(ctx, ch)
	case railyard.ChangeQueue:
		b.fi.Put(path.Join(envAppDir(ch.Environment, ch.Application), "queued_version"), pack.ModeSymlink, []byte(versionLink(ch.Application, ch.Version)))
		return nil
	case railyard.ChangeUnqueue:
		b.fi.Delete(path.Join(envAppDir(ch.Environment, ch.Application), "queued_version"))
		return nil
	case railyard.ChangeDeploymentDelete:
		return b.deleteDeployment(ch.Environment, ch.Application)
	case railyard.ChangeLockPut:
		dir := lockDir(ch.Lock)
		b.fi.Delete(dir) // a replaced lock may have had files this one has not
		for _, name := range slices.Sorted(maps.Keys(lockFiles(ch.Lock))) {
			b.fi.Put(path.Join(dir, name), pack.ModeFile, []byte(lockFiles(ch.Lock)[name]))
		}
		return nil
	case railyard.ChangeLockDelete:
		b.fi.Delete(lockDir(ch.Lock))
		return nil
	}
	return fmt.Errorf("unknown change %q", ch.Op)
}

func (b *builder) putEnvironment(ch *railyard.Change) error {
	st, err := b.env(ch.Environment)
	if err != nil {
		return err
	}
	oldLayout := ""
	if st.exists {
		oldLayout = argocd.Layout(&st.env)
	}
	st.exists = true
	st.env = railyard.Environment{Name: ch.Environment, Config: *ch.Config}
	b.fi.Put(envConfig(ch.Environment), pack.ModeFile, configJSON(ch.Config))
	if oldLayout != "" && oldLayout != argocd.Layout(&st.env) {
		if err := b.deleteArgo(ch.Environment); err != nil {
			return err
		}
	}
	// The config shapes every document of the environment.
	b.dirtyProjects[ch.Environment] = true
	for app := range st.apps {
		b.dirtyApps[[2]string{ch.Environment, app}] = true
	}
	return nil
}

func (b *builder) deleteEnvironment(name string) error {
	if err := b.deleteArgo(name); err != nil {
		return err
	}
	b.fi.Delete(envDir(name))
	b.idx.envs[name] = &envState{apps: map[string]bool{}}
	delete(b.dirtyProjects, name)
	for k := range b.dirtyApps {
		if k[0] == name {
			delete(b.dirtyApps, k)
		}
	}
	return nil
}

// deleteArgo removes every Argo CD document of an environment, in either
// layout.
func (b *builder) deleteArgo(env string) error {
	paths, err := argocd.EnvironmentPaths(env)
	if err != nil {
		return err
	}
	for _, p := range paths {
		b.fi.Delete(p)
	}
	return nil
}

func (b *builder) putApplication(app, team string) error {
	old, err := b.team(app)
	if err != nil {
		return err
	}
	b.idx.teams[app] = team
	b.fi.Put(appTeam(app), pack.ModeFile, []byte(team))
	if old == team {
		return nil
	}
	// The team is a label of the application's documents everywhere it runs.
	for name, st := range b.idx.envs {
		if st.exists && st.apps[app] {
			b.dirtyApps[[2]string{name, app}] = true
		}
	}
	return b.markTeamChangeInUnloadedEnvs(app)
}

// markTeamChangeInUnloadedEnvs loads the environments of the base commit
// not yet in the index, so a team change reaches every document.
func (b *builder) markTeamChangeInUnloadedEnvs(app string) error {
	entries, err := b.tree(b.base + ":environments")
	if err != nil {
		return err
	}
	for _, e := range entries {
		if _, loaded := b.idx.envs[e.Name]; loaded || !e.Mode.IsDir() {
			continue
		}
		st, err := b.env(e.Name)
		if err != nil {
			return err
		}
		if st.exists && st.apps[app] {
			b.dirtyApps[[2]string{e.Name, app}] = true
		}
	}
	return nil
}

// putRelease writes a release, and notes its manifests' blobs for the
// deploys of this batch.
func (b *builder) putRelease(r *railyard.Release) {
	dir := releaseDir(r.Application, r.Version)
	b.fi.Delete(dir) // a version re-created after cleanup starts clean
	files := releaseFiles(r)
	for _, name := range slices.Sorted(maps.Keys(files)) {
		b.fi.Put(path.Join(dir, name), pack.ModeFile, []byte(files[name]))
	}
	for _, env := range slices.Sorted(maps.Keys(r.Manifests)) {
		p := releaseManifest(r.Application, r.Version, env)
		b.blobs[p] = b.fi.Blob([]byte(r.Manifests[env]))
		b.fi.PutBlob(p, pack.ModeFile, b.blobs[p])
	}
}

// deleteRelease deletes a release directory, and forgets the manifests
// this batch wrote into it.
func (b *builder) deleteRelease(app string, version int64) {
	dir := releaseDir(app, version)
	for p := range b.blobs {
		if strings.HasPrefix(p, dir+"/") {
			delete(b.blobs, p)
		}
	}
	b.fi.Delete(dir)
}

func (b *builder) deploy(ctx context.Context, ch *railyard.Change) error {
	manifest, err := b.manifestBlob(ctx, ch.Application, ch.Version, ch.Environment)
	if err != nil {
		return err
	}
	dir := envAppDir(ch.Environment, ch.Application)
	b.fi.Put(path.Join(dir, "version"), pack.ModeSymlink, []byte(versionLink(ch.Application, ch.Version)))
	b.fi.PutBlob(path.Join(dir, "manifests", "manifests.yaml"), pack.ModeFile, manifest)
	return b.markDeployed(ch)
}

// markDeployed writes who deployed and when, and notes a first deployment
// in the environment, which needs a new Argo CD Application.
func (b *builder) markDeployed(ch *railyard.Change) error {
	dir := envAppDir(ch.Environment, ch.Application)
	b.fi.Put(path.Join(dir, "deployed_by"), pack.ModeFile, []byte(b.ev.Actor.Name))
	b.fi.Put(path.Join(dir, "deployed_by_email"), pack.ModeFile, []byte(b.ev.Actor.Email))
	b.fi.Put(path.Join(dir, "deployed_at_utc"), pack.ModeFile, []byte(formatTime(b.ev.Time)))
	st, err := b.env(ch.Environment)
	if err != nil {
		return err
	}
	if !st.apps[ch.Application] {
		st.apps[ch.Application] = true
		b.dirtyApps[[2]string{ch.Environment, ch.Application}] = true
	}
	return nil
}

// manifestBlob returns the blob of a release's manifest for env: the one
// this batch wrote, else the one in the base commit, else (someone
// deleted it from the repository by hand) a new blob of the manifest in
// the database. The release directory is left as it is: a deploy writes
// the manifest into the environment only.
func (b *builder) manifestBlob(ctx context.Context, app string, version int64, env string) (pack.ID, error) {
	p := releaseManifest(app, version, env)
	if id, ok := b.blobs[p]; ok {
		return id, nil
	}
	entries, err := b.tree(b.base + ":" + path.Dir(p))
	if err != nil {
		return pack.ID{}, err
	}
	for _, e := range entries {
		if e.Name == path.Base(p) {
			return e.ID, nil
		}
	}
	rel, err := b.rels.FindRelease(ctx, app, version)
	if err != nil {
		return pack.ID{}, fmt.Errorf("manifest of %s %d for %s is neither in the repository nor in the database: %w", app, version, env, err)
	}
	id := b.fi.Blob([]byte(rel.Manifests[env]))
	b.blobs[p] = id // for the other deploys of this batch
	return id, nil
}

func (b *builder) deleteDeployment(env, app string) error {
	b.fi.Delete(envAppDir(env, app))
	st, err := b.env(env)
	if err != nil {
		return err
	}
	if st.apps[app] {
		delete(st.apps, app)
		b.dirtyApps[[2]string{env, app}] = true
	}
	return nil
}

// renderArgo rewrites the Argo CD documents the event touched.
func (b *builder) renderArgo() error {
	single := map[string]bool{}
	for _, envName := range slices.Sorted(maps.Keys(b.dirtyProjects)) {
		st := b.idx.envs[envName]
		if !st.exists {
			continue
		}
		if argocd.Layout(&st.env) == railyard.ArgoCDLayoutSingleFile {
			single[envName] = true
			continue
		}
		doc, err := argocd.Project(&st.env, b.argo)
		if err != nil {
			return err
		}
		p, err := argocd.ProjectPath(envName, railyard.ArgoCDLayoutPerApplication)
		if err != nil {
			return err
		}
		b.fi.Put(p, pack.ModeFile, doc)
	}
	keys := make([][2]string, 0, len(b.dirtyApps))
	for k := range b.dirtyApps {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool { return keys[i][0]+"/"+keys[i][1] < keys[j][0]+"/"+keys[j][1] })
	for _, k := range keys {
		st := b.idx.envs[k[0]]
		if !st.exists {
			continue
		}
		if argocd.Layout(&st.env) == railyard.ArgoCDLayoutSingleFile {
			single[k[0]] = true
			continue
		}
		if err := b.renderApplication(st, k[1]); err != nil {
			return err
		}
	}
	for _, envName := range slices.Sorted(maps.Keys(single)) {
		if err := b.renderSingleFile(b.idx.envs[envName]); err != nil {
			return err
		}
	}
	return nil
}

func (b *builder) renderApplication(st *envState, app string) error {
	p, err := argocd.ApplicationPath(st.env.Name, app, railyard.ArgoCDLayoutPerApplication)
	if err != nil {
		return err
	}
	if !st.apps[app] {
		b.fi.Delete(p)
		return nil
	}
	team, err := b.team(app)
	if err != nil {
		return err
	}
	doc, err := argocd.Application(&st.env, argocd.App{Name: app, Team: team}, b.argo)
	if err != nil {
		return err
	}
	b.fi.Put(p, pack.ModeFile, doc)
	return nil
}

// renderSingleFile rewrites argocd/v1alpha1/<env>.yaml whole: the cost of
// Kuberpult's layout, O(applications in the environment) per event.
func (b *builder) renderSingleFile(st *envState) error {
	apps := make([]argocd.App, 0, len(st.apps))
	for _, name := range slices.Sorted(maps.Keys(st.apps)) {
		team, err := b.team(name)
		if err != nil {
			return err
		}
		apps = append(apps, argocd.App{Name: name, Team: team})
	}
	files, err := argocd.Files(&st.env, apps, b.argo)
	if err != nil {
		return err
	}
	for _, p := range slices.Sorted(maps.Keys(files)) {
		b.fi.Put(p, pack.ModeFile, files[p])
	}
	return nil
}
