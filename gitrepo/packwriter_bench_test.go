package gitrepo

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/railyard-cd/railyard/gitrepo/internal/gitcli"
	"github.com/railyard-cd/railyard/gitrepo/internal/pack"
)

// commitAt is a commit by alice at t, as the exporter writes it.
func commitAt(t time.Time, message string) pack.Commit {
	return pack.Commit{Author: signature(alice, t), Committer: signature(committer, t), Message: message}
}

// benchLayout writes a repository of apps applications with a release
// deployed in each of envs, in the manifest repository's layout.
func benchLayout(w treeWriter, apps int, envs []string) {
	w.BeginCommit(commitAt(t0, "Seed\n"))
	for _, env := range envs {
		w.Put(envConfig(env), pack.ModeFile, []byte("{}\n"))
	}
	for i := 0; i < apps; i++ {
		app := fmt.Sprintf("app-%05d", i)
		benchRelease(w, app, 1, envs, nil)
		for _, env := range envs {
			w.Put(fmt.Sprintf("argocd/v1alpha1/%s/%s.yaml", env, app), pack.ModeFile, []byte("kind: Application\nname: "+app+"\n"))
		}
	}
	w.EndCommit()
}

// benchRelease makes the calls of a release of app deployed to every env,
// as the exporter does; manifests are blobs, or nil to write small ones
// inline.
func benchRelease(w treeWriter, app string, version int64, envs []string, manifests []pack.ID) {
	dir := releaseDir(app, version)
	w.Delete(dir)
	for _, f := range []string{"created_at", "source_author", "source_commit_id", "source_message", "team"} {
		w.Put(dir+"/"+f, pack.ModeFile, []byte(f+" of "+app))
	}
	for i, env := range envs {
		p := releaseManifest(app, version, env)
		if manifests == nil {
			w.Put(p, pack.ModeFile, []byte(manifest10KB(app, version, env)[:200]))
		} else {
			w.PutBlob(p, pack.ModeFile, manifests[i])
		}
		d := envAppDir(env, app)
		w.Put(d+"/version", pack.ModeSymlink, []byte(versionLink(app, version)))
		if manifests == nil {
			w.Put(d+"/manifests/manifests.yaml", pack.ModeFile, []byte(manifest10KB(app, version, env)[:200]))
		} else {
			w.PutBlob(d+"/manifests/manifests.yaml", pack.ModeFile, manifests[i])
		}
		w.Put(d+"/deployed_by", pack.ModeFile, []byte(alice.Name))
		w.Put(d+"/deployed_by_email", pack.ModeFile, []byte(alice.Email))
		w.Put(d+"/deployed_at_utc", pack.ModeFile, []byte(formatTime(t0.Add(time.Duration(version)*time.Second))))
	}
	w.Put(appTeam(app), pack.ModeFile, []byte("team-"+app[len(app)-1:]))
}

// BenchmarkTreeWriter writes batches of 500 release events (3
// environments, 10 KB manifests) into a repository of 1,000 applications
// through each writer, without the database or a push: the writers' own
// cost. cpu-ms/event counts the git processes too.
func BenchmarkTreeWriter(b *testing.B) {
	const apps, events = 1000, 500
	envs := []string{"development", "staging", "production"}
	manifests := make([][]byte, events*len(envs))
	for i := range manifests {
		manifests[i] = []byte(manifest10KB(fmt.Sprintf("app-%05d", i/len(envs)%apps), 2, envs[i%len(envs)]))
	}
	for _, bw := range benchWriters {
		b.Run(bw.name, func(b *testing.B) {
			dir := filepath.Join(b.TempDir(), "repo.git")
			if err := InitBare(context.Background(), dir, "main"); err != nil {
				b.Fatal(err)
			}
			g := &gitcli.Git{Dir: dir}
			w, err := openPackWriter(context.Background(), g, "refs/heads/main", pack.ID{})
			if err != nil {
				b.Fatal(err)
			}
			benchLayout(w, apps, envs)
			if err := w.Finish(context.Background()); err != nil {
				b.Fatal(err)
			}
			out, err := g.Run(context.Background(), "rev-parse", "main")
			if err != nil {
				b.Fatal(err)
			}
			base, err := pack.ParseID(strings.TrimSpace(out))
			if err != nil {
				b.Fatal(err)
			}
			seedPacks := packs(b, dir)
			var cpu time.Duration
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				start := cpuTime(syscall.RUSAGE_SELF) + cpuTime(syscall.RUSAGE_CHILDREN)
				benchBatch(b, g, bw.open, base, envs, manifests)
				cpu += cpuTime(syscall.RUSAGE_SELF) + cpuTime(syscall.RUSAGE_CHILDREN) - start
				b.StopTimer()
				removeNewPacks(b, dir, seedPacks) // or fast-import would find the objects and skip them
				b.StartTimer()
			}
			b.ReportMetric(float64(events*b.N)/b.Elapsed().Seconds(), "events/s")
			b.ReportMetric(float64(cpu.Microseconds())/1000/float64(events*b.N), "cpu-ms/event")
			b.ReportMetric(0, "ns/op")
		})
	}
}

// benchBatch writes one batch of release events on base.
func benchBatch(b *testing.B, g *gitcli.Git, open openWriterFunc, base pack.ID, envs []string, manifests [][]byte) {
	w, err := open(context.Background(), g, "refs/heads/bench", base)
	if err != nil {
		b.Fatal(err)
	}
	refs := make([]pack.ID, len(envs))
	for i := 0; i < len(manifests)/len(envs); i++ {
		for j := range envs {
			refs[j] = w.Blob(manifests[i*len(envs)+j])
		}
		w.BeginCommit(commitAt(t0.Add(time.Duration(i)*time.Second), fmt.Sprintf("Release %d\n", i)))
		benchRelease(w, fmt.Sprintf("app-%05d", i%1000), 2, envs, refs)
		w.EndCommit()
	}
	if err := w.Finish(context.Background()); err != nil {
		b.Fatal(err)
	}
}

// removeNewPacks deletes the packs (and their indexes) not in keep.
func removeNewPacks(b *testing.B, dir string, keep []string) {
	for _, p := range packs(b, dir) {
		if !slices.Contains(keep, p) {
			for _, f := range []string{p, strings.TrimSuffix(p, ".pack") + ".idx", strings.TrimSuffix(p, ".pack") + ".rev"} {
				if err := os.Remove(f); err != nil && !os.IsNotExist(err) {
					b.Fatal(err)
				}
			}
		}
	}
}
