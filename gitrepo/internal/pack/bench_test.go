package gitrepo

import (
	"context"
	"fmt"
	"os"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"
)

// benchLayout writes a repository of apps applications with a release
// deployed in each of envs, in the manifest repository's layout.
func benchLayout(w treeWriter, apps int, envs []string) {
	w.commitHeader(alice, t0, "Seed\n")
	for _, env := range envs {
		w.put(envConfig(env), modeFile, []byte("{}\n"))
	}
	for i := 0; i < apps; i++ {
		app := fmt.Sprintf("app-%05d", i)
		benchRelease(w, app, 1, envs, nil)
		for _, env := range envs {
			w.put(fmt.Sprintf("argocd/v1alpha1/%s/%s.yaml", env, app), modeFile, []byte("kind: Application\nname: "+app+"\n"))
		}
	}
	w.endCommit()
}

// benchRelease makes the calls of a release of app deployed to every env,
// as the builder does; manifests are blob references, or nil to write
// small ones inline.
func benchRelease(w treeWriter, app string, version int64, envs []string, manifests []string) {
	dir := releaseDir(app, version)
	w.del(dir)
	for _, f := range []string{"created_at", "source_author", "source_commit_id", "source_message", "team"} {
		w.put(dir+"/"+f, modeFile, []byte(f+" of "+app))
	}
	for i, env := range envs {
		p := releaseManifest(app, version, env)
		if manifests == nil {
			w.put(p, modeFile, []byte(manifest10KB(app, version, env)[:200]))
		} else {
			w.putRef(p, modeFile, manifests[i])
		}
		d := envAppDir(env, app)
		w.put(d+"/version", modeSymlink, []byte(versionLink(app, version)))
		if manifests == nil {
			w.put(d+"/manifests/manifests.yaml", modeFile, []byte(manifest10KB(app, version, env)[:200]))
		} else {
			w.putRef(d+"/manifests/manifests.yaml", modeFile, manifests[i])
		}
		w.put(d+"/deployed_by", modeFile, []byte(alice.Name))
		w.put(d+"/deployed_by_email", modeFile, []byte(alice.Email))
		w.put(d+"/deployed_at_utc", modeFile, []byte(formatTime(t0.Add(time.Duration(version)*time.Second))))
	}
	w.put(appTeam(app), modeFile, []byte("team-"+app[len(app)-1:]))
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
			r := newScriptRepo(b, bw.open)
			w, err := openPackWriter(context.Background(), r.g, "refs/heads/main", "")
			if err != nil {
				b.Fatal(err)
			}
			benchLayout(w, apps, envs)
			if err := w.finish(); err != nil {
				b.Fatal(err)
			}
			base := strings.TrimSpace(r.run("rev-parse", "main"))
			seedPacks := r.packs()
			var cpu time.Duration
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				start := cpuTime(syscall.RUSAGE_SELF) + cpuTime(syscall.RUSAGE_CHILDREN)
				benchBatch(b, r.g, bw.open, base, envs, manifests)
				cpu += cpuTime(syscall.RUSAGE_SELF) + cpuTime(syscall.RUSAGE_CHILDREN) - start
				b.StopTimer()
				removeNewPacks(b, r, seedPacks) // or fast-import would find the objects and skip them
				b.StartTimer()
			}
			b.ReportMetric(float64(events*b.N)/b.Elapsed().Seconds(), "events/s")
			b.ReportMetric(float64(cpu.Microseconds())/1000/float64(events*b.N), "cpu-ms/event")
			b.ReportMetric(0, "ns/op")
		})
	}
}

// benchBatch writes one batch of release events on base.
func benchBatch(b *testing.B, g *gitCmd, open openWriterFunc, base string, envs []string, manifests [][]byte) {
	w, err := open(context.Background(), g, "refs/heads/bench", base)
	if err != nil {
		b.Fatal(err)
	}
	refs := make([]string, len(envs))
	for i := 0; i < len(manifests)/len(envs); i++ {
		for j := range envs {
			refs[j] = w.blob(manifests[i*len(envs)+j])
		}
		w.commitHeader(alice, t0.Add(time.Duration(i)*time.Second), fmt.Sprintf("Release %d\n", i))
		benchRelease(w, fmt.Sprintf("app-%05d", i%1000), 2, envs, refs)
		w.endCommit()
	}
	if err := w.finish(); err != nil {
		b.Fatal(err)
	}
}

// removeNewPacks deletes the packs (and their indexes) not in keep.
func removeNewPacks(b *testing.B, r *scriptRepo, keep []string) {
	for _, p := range r.packs() {
		if !slices.Contains(keep, p) {
			for _, f := range []string{p, strings.TrimSuffix(p, ".pack") + ".idx", strings.TrimSuffix(p, ".pack") + ".rev"} {
				if err := os.Remove(f); err != nil && !os.IsNotExist(err) {
					b.Fatal(err)
				}
			}
		}
	}
}
