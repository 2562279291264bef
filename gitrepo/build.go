package gitrepo

import (
	"context"
	"fmt"
	"maps"
	"path"
	"slices"
	"sort"
	"strings"

	"github.com/railyard-cd/railyard"
	"github.com/railyard-cd/railyard/argocd"
)

// EventTrailer is the commit trailer that carries the id of the event a
// commit exports; the exporter resumes after the newest one it finds.
const EventTrailer = "Railyard-Event"

// committer is the committer of every exported commit.
var committer = railyard.Actor{Name: "Railyard", Email: "railyard@localhost"}

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
	fi    treeWriter
	cat   *catFile
	base  string
	idx   *index
	argo  argocd.Options
	rels  ReleaseSource
	ctx   context.Context
	marks map[string]string // release manifest path → blob mark, for releases created in this batch
	ev    *railyard.Event   // the event being written
	// manifests[i] is the blob of the manifest change i of ev deploys;
	// created[i] the blobs (by environment) of the release change i of ev
	// creates, which a later change of ev may delete from marks.
	manifests []string
	created   []map[string]string

	// per event: the Argo CD documents to re-render
	dirtyApps     map[[2]string]bool // (env, app)
	dirtyProjects map[string]bool
}

// ReleaseSource finds a release when its manifest is missing from the
// repository (someone deleted it by hand): the exporter then takes it from
// the database.
type ReleaseSource interface {
	FindRelease(ctx context.Context, app string, version int64) (*railyard.Release, error)
}

// env returns the index entry of env, loading it from base on first use.
func (b *builder) env(name string) (*envState, error) {
	if st, ok := b.idx.envs[name]; ok {
		return st, nil
	}
	st := &envState{apps: map[string]bool{}}
	cfg, ok, err := b.cat.blob(b.base + ":" + envConfig(name))
	if err != nil {
		return nil, err
	}
	if ok {
		st.exists = true
		st.env.Name = name
		if err := railyard.DecodeJSONStrict(cfg, &st.env.Config); err != nil {
			return nil, fmt.Errorf("read %s: %v", envConfig(name), railyard.ErrorMessage(err))
		}
		apps, err := b.cat.tree(b.base + ":" + path.Join(envDir(name), "applications"))
		if err != nil {
			return nil, err
		}
		for _, a := range apps {
			if a.mode != "40000" {
				continue
			}
			entries, err := b.cat.tree(a.sha)
			if err != nil {
				return nil, err
			}
			for _, e := range entries {
				if e.name == "version" {
					st.apps[a.name] = true
				}
			}
		}
	}
	b.idx.envs[name] = st
	return st, nil
}

// team returns the team of app, loading it from base on first use.
func (b *builder) team(app string) (string, error) {
	if t, ok := b.idx.teams[app]; ok {
		return t, nil
	}
	t, _, err := b.cat.blob(b.base + ":" + appTeam(app))
	if err != nil {
		return "", err
	}
	b.idx.teams[app] = string(t)
	return string(t), nil
}

// commitRecovering is commit, returning a panic as an error that names the
// event: a malformed event must not take the process down.
func (b *builder) commitRecovering(ev *railyard.Event) (err error) {
	defer func() {
		if v := recover(); v != nil {
			err = recovered(ev.ID, v)
		}
	}()
	return b.commit(ev)
}

// commit writes one event as one commit.
func (b *builder) commit(ev *railyard.Event) error {
	b.ev = ev
	b.dirtyApps = map[[2]string]bool{}
	b.dirtyProjects = map[string]bool{}
	// Blobs are written before the commit starts (fast-import, the test
	// oracle, takes them only between commits): the event's manifests
	// first, then the manifests its deploys point at are resolved.
	b.manifests = make([]string, len(ev.Changes))
	b.created = make([]map[string]string, len(ev.Changes))
	for i := range ev.Changes {
		if err := b.prepare(i, &ev.Changes[i]); err != nil {
			return fmt.Errorf("event %d (%s): %w", ev.ID, ev.Kind, err)
		}
	}
	b.fi.commitHeader(ev.Actor, ev.Time, commitMessage(ev))
	for i := range ev.Changes {
		if err := b.apply(i, &ev.Changes[i]); err != nil {
			return fmt.Errorf("event %d (%s): %w", ev.ID, ev.Kind, err)
		}
	}
	if err := b.renderArgo(); err != nil {
		return fmt.Errorf("event %d: argo cd documents: %w", ev.ID, err)
	}
	b.fi.endCommit()
	return b.fi.failed()
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

// prepare writes the blobs change i needs before the commit starts.
func (b *builder) prepare(i int, ch *railyard.Change) error {
	switch ch.Op {
	case railyard.ChangeReleaseCreate:
		r := ch.Release
		b.created[i] = make(map[string]string, len(r.Manifests))
		for _, env := range slices.Sorted(maps.Keys(r.Manifests)) {
			mark := b.fi.blob([]byte(r.Manifests[env]))
			b.created[i][env] = mark
			b.marks[releaseManifest(r.Application, r.Version, env)] = mark
		}
	case railyard.ChangeReleaseDelete:
		prefix := releaseDir(ch.Application, ch.Version) + "/"
		for p := range b.marks {
			if strings.HasPrefix(p, prefix) {
				delete(b.marks, p)
			}
		}
	case railyard.ChangeDeploy:
		ref, err := b.manifestRef(ch.Application, ch.Version, ch.Environment)
		if err != nil {
			return err
		}
		b.manifests[i] = ref
	}
	return nil
}

// apply writes one change.
func (b *builder) apply(i int, ch *railyard.Change) error {
	switch ch.Op {
	case railyard.ChangeEnvironmentPut:
		return b.putEnvironment(ch)
	case railyard.ChangeEnvironmentDelete:
		return b.deleteEnvironment(ch.Environment)
	case railyard.ChangeApplicationPut:
		return b.putApplication(ch.Application, ch.Team)
	case railyard.ChangeApplicationDelete:
		b.fi.del(appDir(ch.Application))
		b.idx.teams[ch.Application] = ""
		return nil
	case railyard.ChangeReleaseCreate:
		b.putRelease(ch.Release, b.created[i])
		return nil
	case railyard.ChangeReleaseDelete:
		b.fi.del(releaseDir(ch.Application, ch.Version))
		return nil
	case railyard.ChangeDeploy:
		return b.deploy(ch, b.manifests[i])
	case railyard.ChangeQueue:
		b.fi.put(path.Join(envAppDir(ch.Environment, ch.Application), "queued_version"), modeSymlink, []byte(versionLink(ch.Application, ch.Version)))
		return nil
	case railyard.ChangeUnqueue:
		b.fi.del(path.Join(envAppDir(ch.Environment, ch.Application), "queued_version"))
		return nil
	case railyard.ChangeDeploymentDelete:
		return b.deleteDeployment(ch.Environment, ch.Application)
	case railyard.ChangeLockPut:
		dir := lockDir(ch.Lock)
		b.fi.del(dir) // a replaced lock may have had files this one has not
		for _, name := range slices.Sorted(maps.Keys(lockFiles(ch.Lock))) {
			b.fi.put(path.Join(dir, name), modeFile, []byte(lockFiles(ch.Lock)[name]))
		}
		return nil
	case railyard.ChangeLockDelete:
		b.fi.del(lockDir(ch.Lock))
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
	b.fi.put(envConfig(ch.Environment), modeFile, configJSON(ch.Config))
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
	b.fi.del(envDir(name))
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
		b.fi.del(p)
	}
	return nil
}

func (b *builder) putApplication(app, team string) error {
	old, err := b.team(app)
	if err != nil {
		return err
	}
	b.idx.teams[app] = team
	b.fi.put(appTeam(app), modeFile, []byte(team))
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
	entries, err := b.cat.tree(b.base + ":environments")
	if err != nil {
		return err
	}
	for _, e := range entries {
		if _, loaded := b.idx.envs[e.name]; loaded || e.mode != "40000" {
			continue
		}
		st, err := b.env(e.name)
		if err != nil {
			return err
		}
		if st.exists && st.apps[app] {
			b.dirtyApps[[2]string{e.name, app}] = true
		}
	}
	return nil
}

// putRelease writes a release; blobs are its manifests' blobs by
// environment.
func (b *builder) putRelease(r *railyard.Release, blobs map[string]string) {
	dir := releaseDir(r.Application, r.Version)
	b.fi.del(dir) // a version re-created after cleanup starts clean
	files := releaseFiles(r)
	for _, name := range slices.Sorted(maps.Keys(files)) {
		b.fi.put(path.Join(dir, name), modeFile, []byte(files[name]))
	}
	for _, env := range slices.Sorted(maps.Keys(r.Manifests)) {
		b.fi.putRef(releaseManifest(r.Application, r.Version, env), modeFile, blobs[env])
	}
}

func (b *builder) deploy(ch *railyard.Change, manifest string) error {
	dir := envAppDir(ch.Environment, ch.Application)
	b.fi.put(path.Join(dir, "version"), modeSymlink, []byte(versionLink(ch.Application, ch.Version)))
	b.fi.putRef(path.Join(dir, "manifests", "manifests.yaml"), modeFile, manifest)
	return b.markDeployed(ch)
}

// markDeployed writes who deployed and when, and notes a first deployment
// in the environment, which needs a new Argo CD Application.
func (b *builder) markDeployed(ch *railyard.Change) error {
	dir := envAppDir(ch.Environment, ch.Application)
	b.fi.put(path.Join(dir, "deployed_by"), modeFile, []byte(b.ev.Actor.Name))
	b.fi.put(path.Join(dir, "deployed_by_email"), modeFile, []byte(b.ev.Actor.Email))
	b.fi.put(path.Join(dir, "deployed_at_utc"), modeFile, []byte(formatTime(b.ev.Time)))
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

// manifestRef returns a reference to the blob of a release's manifest for
// env: a mark if this batch wrote it, else its SHA-1 in the base commit,
// else (deleted by hand) a new blob from the database.
func (b *builder) manifestRef(app string, version int64, env string) (string, error) {
	p := releaseManifest(app, version, env)
	if mark, ok := b.marks[p]; ok {
		return mark, nil
	}
	entries, err := b.cat.tree(b.base + ":" + path.Dir(p))
	if err != nil {
		return "", err
	}
	for _, e := range entries {
		if e.name == path.Base(p) {
			return e.sha, nil
		}
	}
	rel, err := b.rels.FindRelease(b.ctx, app, version)
	if err != nil {
		return "", fmt.Errorf("manifest of %s %d for %s is neither in the repository nor in the database: %w", app, version, env, err)
	}
	// The manifest is restored in the release directory too (see deploy).
	mark := b.fi.blob([]byte(rel.Manifests[env]))
	b.marks[p] = mark
	return mark, nil
}

func (b *builder) deleteDeployment(env, app string) error {
	b.fi.del(envAppDir(env, app))
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
		b.fi.put(p, modeFile, doc)
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
		b.fi.del(p)
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
	b.fi.put(p, modeFile, doc)
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
		b.fi.put(p, modeFile, files[p])
	}
	return nil
}
