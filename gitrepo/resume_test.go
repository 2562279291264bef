package gitrepo

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/railyard-cd/railyard"
	"github.com/railyard-cd/railyard/gitrepo/internal/gitcli"
)

// person is someone's clone of the manifest repository, committing as
// Someone unless told otherwise.
type person struct {
	t   testing.TB
	dir string
}

var someone = []string{"-c", "user.name=Someone", "-c", "user.email=someone@example.com"}

// clonePerson clones the published repository of e.
func clonePerson(t testing.TB, e *testEnv) *person {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "clone")
	if _, err := (&gitcli.Git{Dir: filepath.Dir(dir)}).Run(context.Background(), "clone", "--quiet", e.remote, dir); err != nil {
		t.Fatal(err)
	}
	return &person{t: t, dir: dir}
}

// git runs git in the clone as Someone, with env added to git's
// environment.
func (p *person) gitEnv(env []string, args ...string) string {
	p.t.Helper()
	out, err := (&gitcli.Git{Dir: p.dir, Env: env}).Run(context.Background(), append(someone, args...)...)
	if err != nil {
		p.t.Fatalf("git %s: %v", strings.Join(args, " "), err)
	}
	return out
}

func (p *person) git(args ...string) string {
	p.t.Helper()
	return p.gitEnv(nil, args...)
}

// commitFile commits a file with message.
func (p *person) commitFile(env []string, name, content, message string) {
	p.t.Helper()
	if err := os.WriteFile(filepath.Join(p.dir, name), []byte(content), 0o644); err != nil {
		p.t.Fatal(err)
	}
	p.git("add", name)
	p.gitEnv(env, "commit", "--quiet", "-m", message)
}

// commitOf returns the commit of event id on the person's main.
func (p *person) commitOf(id int) string {
	p.t.Helper()
	sha := strings.TrimSpace(p.git("log", "--format=%H", "--grep=^"+EventTrailer+fmt.Sprintf(": %d$", id), "main"))
	if sha == "" || strings.Contains(sha, "\n") {
		p.t.Fatalf("commit of event %d: %q", id, sha)
	}
	return sha
}

// asRailyard is the environment of a commit forged to look like
// Railyard's: its committer, at the given time for both dates.
func asRailyard(date string) []string {
	return []string{"GIT_COMMITTER_NAME=Railyard", "GIT_COMMITTER_EMAIL=railyard@localhost",
		"GIT_COMMITTER_DATE=" + date, "GIT_AUTHOR_DATE=" + date}
}

// firstParentLine is the first-parent line of main, oldest first: per
// commit its committer and Railyard-Event trailer.
func firstParentLine(e *testEnv) string {
	return e.git("log", "--first-parent", "--reverse", "--format=%cn %(trailers:key="+EventTrailer+",valueonly,separator=%x2C)", "main")
}

// railyardLine is firstParentLine for Railyard's commits of events from..to.
func railyardLine(from, to int) string {
	var b strings.Builder
	for i := from; i <= to; i++ {
		fmt.Fprintf(&b, "Railyard %d\n", i)
	}
	return b.String()
}

// sixEvents records events 1 to 6 and exports them: event 2 puts a lock
// that event 3 deletes, so that a cherry-pick of event 2 applies cleanly
// on top.
func sixEvents(e *testEnv) {
	e.must(envCmd("development", railyard.EnvironmentConfig{Upstream: &railyard.Upstream{Latest: true}}))
	e.must(&railyard.CreateLock{LockTarget: railyard.LockTarget{Kind: railyard.LockEnvironment, Environment: "development", ID: "a"}, Message: "Maintenance"})
	e.must(&railyard.DeleteLock{LockTarget: railyard.LockTarget{Kind: railyard.LockEnvironment, Environment: "development", ID: "a"}})
	for v := int64(1); v <= 3; v++ {
		e.must(releaseCmd("checkout", v, "payments", "development"))
	}
	e.sync()
}

// sixEventsFixtures returns sixEvents exported, in a remote testEnv and in
// a local one, for copyTo.
func sixEventsFixtures(t *testing.T) [2]*testEnv {
	t.Helper()
	return [2]*testEnv{newFixture(t, false, sixEvents), newFixture(t, true, sixEvents)}
}

// forEachFixture runs test in parallel on a copy of each fixture, a
// subtest named after the fixture's mode.
func forEachFixture(t *testing.T, fixtures [2]*testEnv, test func(t *testing.T, e *testEnv)) {
	for _, f := range fixtures {
		t.Run(modeName(f.local), func(t *testing.T) {
			t.Parallel()
			test(t, f.copyTo(t))
		})
	}
}

// TestResumeCountsOnlyRailyardsCommits changes the branch the way people
// do between exports and checks that Railyard resumes after its own last
// commit: never writing an event twice, never skipping one.
func TestResumeCountsOnlyRailyardsCommits(t *testing.T) {
	t.Parallel()
	fixtures := sixEventsFixtures(t)
	for _, tc := range []struct {
		name string
		// change changes the branch after event 6 and returns the first-
		// parent line it leaves, from its first foreign commit on.
		change func(p *person) string
	}{
		{"cherry-pick of Railyard's commit", func(p *person) string {
			p.git("cherry-pick", p.commitOf(2))
			return "Someone 2\n"
		}},
		{"revert of Railyard's commit", func(p *person) string {
			p.git("revert", "--no-edit", p.commitOf(6))
			return "Someone \n"
		}},
		{"merge into the branch", func(p *person) string {
			p.git("checkout", "--quiet", "-b", "side", p.commitOf(4))
			p.commitFile(nil, "README.md", "# Manifests\n", "Add README.md")
			p.git("checkout", "--quiet", "main")
			p.git("merge", "--quiet", "--no-ff", "--no-edit", "side")
			return "Someone \n"
		}},
		{"someone's commit with a trailer", func(p *person) string {
			p.commitFile(nil, "README.md", "# Manifests\n", "Add README.md\n\n"+EventTrailer+": 99")
			return "Someone 99\n"
		}},
		{"someone's commit with Railyard's committer at another time", func(p *person) string {
			p.commitFile([]string{"GIT_COMMITTER_NAME=Railyard", "GIT_COMMITTER_EMAIL=railyard@localhost",
				"GIT_AUTHOR_DATE=2026-11-02T09:30:00Z", "GIT_COMMITTER_DATE=2026-11-02T09:30:01Z"},
				"README.md", "# Manifests\n", "Add README.md\n\n"+EventTrailer+": 99")
			return "Railyard 99\n"
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			forEachFixture(t, fixtures, func(t *testing.T, e *testEnv) {
				p := clonePerson(t, e)
				foreign := tc.change(p)
				p.git("push", "--quiet", "origin", "main")
				e.must(releaseCmd("checkout", 4, "payments", "development"))
				e.must(releaseCmd("checkout", 5, "payments", "development"))
				e.sync()
				if got, want := firstParentLine(e), railyardLine(1, 6)+foreign+railyardLine(7, 8); got != want {
					t.Errorf("first-parent line of main:\ngot\n%swant\n%s", got, want)
				}
				// And after a restart.
				e.must(releaseCmd("checkout", 6, "payments", "development"))
				e.x = e.newExporter()
				e.sync()
				if got, want := firstParentLine(e), railyardLine(1, 6)+foreign+railyardLine(7, 9); got != want {
					t.Errorf("after a restart:\ngot\n%swant\n%s", got, want)
				}
			})
		})
	}
}

// TestResumeStopsOnInconsistentHistory gives the branch histories from
// which Railyard cannot tell which events it holds: export stops, says
// why, and writes nothing, in both modes and after a restart.
func TestResumeStopsOnInconsistentHistory(t *testing.T) {
	t.Parallel()
	fixtures := sixEventsFixtures(t)
	for _, tc := range []struct {
		name string
		// change changes the branch after event 6 (events 7 and 8 are
		// recorded, not exported) and returns the error export must stop
		// with.
		change func(e *testEnv, p *person) string
	}{
		{"copy of an older commit, committed as Railyard", func(e *testEnv, p *person) string {
			c := p.commitOf(2)
			p.gitEnv(asRailyard(strings.TrimSpace(p.git("show", "-s", "--format=%aI", c))), "cherry-pick", c)
			forged, six := p.git("rev-parse", "HEAD")[:12], p.commitOf(6)[:12]
			return fmt.Sprintf(`branch "main" of %s is inconsistent: commit %s, committed as Railyard, says it exports event 2, `+
				"but it comes after commit %s of event 6 on the branch's first-parent line, and Railyard exports events once each, in increasing order. "+
				"Railyard will not guess which events the branch holds: remove commit %s from the branch (for example reset the branch to %s and push again what else came after it); "+
				"export then continues by itself", e.repoName(), forged, six, forged, six)
		}},
		{"commit as Railyard whose event time is not the database's", func(e *testEnv, p *person) string {
			p.commitFile(asRailyard("2020-01-01T00:00:00Z"), "README.md", "# Manifests\n", "Add README.md\n\n"+EventTrailer+": 8")
			return fmt.Sprintf("the manifest repository's event 8 (commit %s) happened at 2020-01-01T00:00:00Z, the database's event 8 at 2026-11-02T09:07:00Z: "+
				"the database is not the one that wrote the repository (restored from an older backup?), or someone made that commit look like Railyard's. "+
				"Point Railyard at the database that wrote the repository, remove a commit that is not Railyard's, or point Railyard at a branch whose history has no "+
				EventTrailer+" trailers (for example a new branch started from an empty commit)", p.git("rev-parse", "HEAD")[:12])
		}},
		{"merge of the branch into someone's work", func(e *testEnv, p *person) string {
			p.git("reset", "--quiet", "--hard", p.commitOf(4))
			p.commitFile(nil, "README.md", "# Manifests\n", "Add README.md")
			p.git("merge", "--quiet", "--no-ff", "--no-edit", "origin/main")
			return fmt.Sprintf(`branch "main" of %s is inconsistent: Railyard's commit %s of event 6 is not on the branch's first-parent line, `+
				"which holds Railyard's commits up to event 4 only (a merge made someone else's commit its first parent). "+
				"Railyard will not guess which events the branch holds: make Railyard's commits the first-parent line again "+
				"(merge other work into the branch, or rebase it onto the branch, rather than merging the branch into it) and push; export then continues by itself",
				e.repoName(), p.commitOf(6)[:12])
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			forEachFixture(t, fixtures, func(t *testing.T, e *testEnv) {
				e.must(releaseCmd("checkout", 4, "payments", "development"))
				e.must(releaseCmd("checkout", 5, "payments", "development"))
				p := clonePerson(t, e)
				want := tc.change(e, p)
				p.git("push", "--quiet", "origin", "main")
				head := e.git("rev-parse", "main")
				for i := 0; i < 2; i++ { // and after a restart
					err := e.x.Sync(context.Background())
					if err == nil || err.Error() != want {
						t.Fatalf("sync %d:\ngot  %v\nwant %s", i, err, want)
					}
					st, err := e.x.Status(context.Background())
					if err != nil {
						t.Fatal(err)
					}
					// A restarted exporter that stopped before it could
					// trust the branch knows of no exported event.
					pending := map[int]int64{0: 2, 1: 8}[i]
					if st.State != railyard.ExportStateStopped || st.LastError != want || st.PendingEvents != pending || st.ConsecutiveFailures != 1 {
						t.Errorf("status after sync %d: %+v", i, st)
					}
					e.x = e.newExporter()
				}
				if got := e.git("rev-parse", "main"); got != head {
					t.Errorf("export wrote to a branch it stopped on: main moved from %s to %s", head, got)
				}
			})
		})
	}
}

// repoName is how messages name the manifest repository of e.
func (e *testEnv) repoName() string {
	if e.local {
		return filepath.Join(e.dir, "work.git")
	}
	return e.remote
}

// TestStoppedExportContinuesOnceFixed stops on a forged commit, then the
// person removes it, and export continues by itself.
func TestStoppedExportContinuesOnceFixed(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	sixEvents(e)
	p := clonePerson(t, e)
	c := p.commitOf(2)
	p.gitEnv(asRailyard(strings.TrimSpace(p.git("show", "-s", "--format=%aI", c))), "cherry-pick", c)
	p.git("push", "--quiet", "origin", "main")
	e.must(releaseCmd("checkout", 4, "payments", "development"))
	var se *stopError
	if err := e.x.Sync(context.Background()); !errors.As(err, &se) {
		t.Fatalf("got %v, want a stop", err)
	}
	p.git("reset", "--quiet", "--hard", "HEAD~1")
	p.git("push", "--quiet", "--force", "origin", "main")
	e.sync()
	if got, want := firstParentLine(e), railyardLine(1, 7); got != want {
		t.Errorf("first-parent line of main:\ngot\n%swant\n%s", got, want)
	}
	if st, _ := e.x.Status(context.Background()); st.State != railyard.ExportStateOK || st.LastError != "" || st.ConsecutiveFailures != 0 {
		t.Errorf("status: %+v", st)
	}
}
