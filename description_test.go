package railyard_test

import (
	"context"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/railyard-cd/railyard"
)

// scaleApps is how many applications the scale tests move in one event:
// 25 times what a description lists. (The report of issue 10 had 3,856;
// the engine work of 2,000 takes 14 s of CPU under -race, too much for
// what it adds: the description is the same past MaxDetailLines.)
const scaleApps = 500

// detailLines returns "Deploy queued app-0000 1 to env" style lines for
// the applications first..first+n-1.
func detailLines(format string, first, n int) string {
	var lines []string
	for i := first; i < first+n; i++ {
		lines = append(lines, fmt.Sprintf(format, fmt.Sprintf("app-%04d", i)))
	}
	return strings.Join(lines, "\n")
}

// assertBounded checks what every description promises: a summary line
// of at most MaxSummaryLength characters, valid UTF-8, at most
// MaxDetailLines detail lines and MaxDescriptionBytes in all.
func assertBounded(t *testing.T, desc string) {
	t.Helper()
	d := railyard.ParseDescription(desc)
	if n := utf8.RuneCountInString(d.Summary); n > railyard.MaxSummaryLength {
		t.Errorf("summary is %d characters: %q", n, d.Summary)
	}
	if len(d.Details) > railyard.MaxDetailLines || len(desc) > railyard.MaxDescriptionBytes || !utf8.ValidString(desc) {
		t.Errorf("description of %d bytes with %d detail lines (valid UTF-8: %v)", len(desc), len(d.Details), utf8.ValidString(desc))
	}
	if d.String() != desc {
		t.Errorf("ParseDescription(desc).String() changed it:\n%s", d.String())
	}
}

// TestDescriptionsAtScale moves 500 applications in one event three
// ways: deleting the lock they were queued behind, a release train, and
// Reconcile after a lock expired. Each description is a summary that
// counts, then the first 20 of them and how many more.
func TestDescriptionsAtScale(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.put("env-02", railyard.EnvironmentConfig{Upstream: &railyard.Upstream{Latest: true}})
	h.put("env-03", railyard.EnvironmentConfig{Upstream: &railyard.Upstream{Latest: true}})
	h.put("production", railyard.EnvironmentConfig{Upstream: &railyard.Upstream{Environment: "env-02"}})
	expiry := t0.Add(time.Hour)
	h.must(&railyard.CreateLock{LockTarget: railyard.LockTarget{Kind: railyard.LockEnvironment, Environment: "env-02", ID: "db-migration"}, Message: "DB migration"})
	h.must(&railyard.CreateLock{LockTarget: railyard.LockTarget{Kind: railyard.LockEnvironment, Environment: "env-03", ID: "short"}, Message: "Short break", ExpiresAt: &expiry})
	var cmds []railyard.Command
	for i := range scaleApps {
		cmds = append(cmds, releaseCmd(fmt.Sprintf("app-%04d", i), 1, "shop", "env-02", "env-03", "production"))
	}
	for len(cmds) > 0 {
		n := min(len(cmds), railyard.MaxBatchCommands)
		if _, err := h.eng.Apply(context.Background(), alice, cmds[:n]...); err != nil {
			t.Fatal(err)
		}
		cmds = cmds[n:]
	}
	assertEqual(t, "queued", h.state("app-0499", "env-02"), "-/1")

	t.Run("unlock", func(t *testing.T) {
		res := h.must(&railyard.DeleteLock{LockTarget: railyard.LockTarget{Kind: railyard.LockEnvironment, Environment: "env-02", ID: "db-migration"}})
		assertEqual(t, "description", res.Event.Description, "Unlock env-02 (db-migration), deploy 500 queued applications\n\n"+
			detailLines("Deploy queued %s 1 to env-02", 0, 20)+"\n… and 480 more")
		assertBounded(t, res.Event.Description)
		assertEqual(t, "deployed", h.state("app-0499", "env-02"), "1/-")
	})
	t.Run("release train", func(t *testing.T) {
		h.must(&railyard.CreateLock{LockTarget: railyard.LockTarget{Kind: railyard.LockApplication, Environment: "production", Application: "app-0001", ID: "hold"}, Message: "Hold"})
		res := h.must(&railyard.ReleaseTrain{Environment: "production"})
		summary := "Release train to production from env-02: 499 deployed, 1 queued, 0 skipped"
		assertEqual(t, "train description", res.Train.Description, summary)
		assertEqual(t, "description", res.Event.Description, summary+"\n\nDeploy app-0000 1 to production\n"+
			`Queue app-0001 1 in production (blocked by application lock "hold")`+"\n"+
			detailLines("Deploy %s 1 to production", 2, 18)+"\n… and 480 more")
		assertBounded(t, res.Event.Description)
	})
	t.Run("reconcile", func(t *testing.T) {
		h.now = expiry.Add(time.Minute)
		ev, err := h.eng.Reconcile(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		assertEqual(t, "description", ev.Description, "Remove 1 expired lock, deploy 500 queued applications to env-03\n\n"+
			"Remove expired lock env-03 (short)\n"+detailLines("Deploy queued %s 1 to env-03", 0, 19)+"\n… and 481 more")
		assertBounded(t, ev.Description)
		assertEqual(t, "deployed", h.state("app-0499", "env-03"), "1/-")
	})
}

// TestDescriptionsThatDoNotFit covers the other commands whose summary
// could grow past a line: a release to many environments, a deploy held
// by many locks, a lock with a long or many-line message.
func TestDescriptionsThatDoNotFit(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	var regions []string
	for i := 1; i <= 12; i++ {
		regions = append(regions, fmt.Sprintf("region-%02d", i))
		h.put(regions[i-1], railyard.EnvironmentConfig{Upstream: &railyard.Upstream{Latest: true}})
	}
	for _, env := range regions[9:] {
		h.must(&railyard.CreateLock{LockTarget: railyard.LockTarget{Kind: railyard.LockEnvironment, Environment: env, ID: "freeze"}, Message: "Freeze"})
	}

	res := h.release("checkout", 1, "shop", regions...)
	var want []string
	for _, env := range regions[:9] {
		want = append(want, "Deploy to "+env)
	}
	for _, env := range regions[9:] {
		want = append(want, "Queue in "+env+" (locked)")
	}
	assertEqual(t, "release", res.Event.Description, "Release checkout 1, deploy to 9 environments, queue in 3\n\n"+strings.Join(want, "\n"))

	h.release("checkout", 2, "shop", regions...)
	var ids []string
	for i := range 4 {
		id := fmt.Sprintf("investigation-of-the-incident-%d", i)
		ids = append(ids, id)
		h.must(&railyard.CreateLock{LockTarget: railyard.LockTarget{Kind: railyard.LockApplication, Environment: "region-01", Application: "checkout", ID: id}, Message: "m"})
	}
	res = h.must(&railyard.Deploy{Application: "checkout", Environment: "region-01", Version: 1, LockBehavior: railyard.LockBehaviorQueue})
	want = want[:0]
	for _, id := range ids {
		want = append(want, fmt.Sprintf("Blocked by application lock %q", id))
	}
	assertEqual(t, "queued deploy", res.Event.Description, "Queue checkout 1 in region-01 (blocked by 4 locks)\n\n"+strings.Join(want, "\n"))
	res = h.must(&railyard.Deploy{Application: "checkout", Environment: "region-01", Version: 1, LockBehavior: railyard.LockBehaviorIgnore})
	assertEqual(t, "override", res.Event.Summary(), "Deploy checkout 1 to region-01, overriding 4 locks")

	// A lock's summary quotes the first line of its message, cut at 60
	// characters and never inside one; the details hold all its lines.
	msg := strings.Repeat("Größenänderung ", 5) + "\nsecond line\n\tindented"
	res = h.must(&railyard.CreateLock{LockTarget: railyard.LockTarget{Kind: railyard.LockEnvironment, Environment: "region-02", ID: "resize"}, Message: msg})
	assertEqual(t, "lock", res.Event.Description, "Lock region-02 (resize): Größenänderung Größenänderung Größenänderung Größenänderung…\n\n"+
		"> Größenänderung Größenänderung Größenänderung Größenänderung Größenänderung\n> second line\n> indented")
	assertBounded(t, res.Event.Description)
	long := strings.Repeat("x", railyard.MaxLockIDLength)
	res = h.must(&railyard.CreateLock{LockTarget: railyard.LockTarget{Kind: railyard.LockEnvironment, Environment: "region-02", ID: long}, Message: "Short"})
	assertEqual(t, "long lock id", res.Event.Description, "Lock region-02 ("+strings.Repeat("x", 83)+"…\n\n"+
		"Lock region-02 ("+long+")\n> Short")
	assertBounded(t, res.Event.Description)

	// A blocker is one line too, quoting the message's first line.
	res = h.must(&railyard.Deploy{Application: "checkout", Environment: "region-02", Version: 1, LockBehavior: railyard.LockBehaviorQueue})
	assertEqual(t, "blocker", res.Deployment.QueuedBecause[0].Description,
		`environment lock "resize" on region-02 by Alice: Größenänderung Größenänderung Größenänderung Größenänderung…`)
	assertEqual(t, "queued with a long lock id", res.Event.Summary(), "Queue checkout 1 in region-02 (blocked by 2 locks)")
}

func TestFormatCount(t *testing.T) {
	t.Parallel()
	for n, want := range map[int]string{0: "0", 7: "7", 999: "999", 1000: "1,000", 3856: "3,856", 107693: "107,693", 1234567: "1,234,567", -4200: "-4,200"} {
		assertEqual(t, fmt.Sprint(n), railyard.FormatCount(n), want)
	}
}

func TestNewDescriptionBounds(t *testing.T) {
	t.Parallel()
	var apps []string
	for i := range 3856 {
		apps = append(apps, fmt.Sprintf("Deploy queued app-%05d 2 (1.2) to env-02", i))
	}
	d := railyard.NewDescription("Unlock env-02 (db-migration), deploy 3,856 queued applications", apps...)
	assertEqual(t, "more", d.MoreLine(), "… and 3,836 more")
	assertEqual(t, "lines", len(d.Details), railyard.MaxDetailLines)
	assertEqual(t, "body", d.Body(), strings.Join(apps[:20], "\n")+"\n… and 3,836 more")
	assertEqual(t, "string", d.String(), d.Summary+"\n\n"+d.Body())
	assertDescription(t, "parsed back", railyard.ParseDescription(d.String()), d)

	// Long lines are cut at MaxDetailLineLength characters, and lines
	// stop at MaxDescriptionBytes: 40 lines of 200 four-byte characters
	// would be 32 KB, 10 are 8,000 bytes.
	wide := strings.Repeat("𝄞", 300)
	var lines []string
	for range 40 {
		lines = append(lines, wide)
	}
	d = railyard.NewDescription("Summary", lines...)
	cut := strings.Repeat("𝄞", railyard.MaxDetailLineLength-1) + "…"
	assertEqual(t, "first line", d.Details[0], cut)
	assertEqual(t, "lines within the bytes", len(d.Details), 10)
	assertEqual(t, "more", d.More, 30)
	assertBounded(t, d.String())

	// No control character reaches a line: not a newline of the summary,
	// not an escape, not a NUL; invalid UTF-8 becomes U+FFFD.
	d = railyard.NewDescription("Lock\nproduction\x00 (x)\x1b[2J \xff", "a\tb\u2028c")
	assertEqual(t, "summary", d.Summary, "Lock production  (x) [2J \uFFFD")
	assertEqual(t, "detail", d.Details[0], "a b c")
}

// TestParseDescriptionOfOldEvents reads descriptions recorded before the
// bounds: one line of any length. The summary is that line cut at
// MaxSummaryLength characters, and the detail is the line cut at
// MaxDetailLineLength.
func TestParseDescriptionOfOldEvents(t *testing.T) {
	t.Parallel()
	var parts []string
	for i := range 3856 {
		parts = append(parts, fmt.Sprintf("app-%05d 2 (1.2) to env-02", i))
	}
	old := "Unlock env-02 (db-migration), deploy queued " + strings.Join(parts, ", ")
	d := railyard.ParseDescription(old)
	assertEqual(t, "summary", d.Summary, "Unlock env-02 (db-migration), deploy queued app-00000 2 (1.2) to env-02, app-00001 2 (1.2) to env-0…")
	assertEqual(t, "details", strings.Join(d.Details, "\n"), strings.TrimSuffix(old[:199], " ")+"…")
	assertDescription(t, "again", railyard.ParseDescription(d.String()), d)
	assertDescription(t, "short one-liner", railyard.ParseDescription("Deploy checkout 2 to staging"), railyard.Description{Summary: "Deploy checkout 2 to staging"})
	// A summary is never cut inside a character.
	d = railyard.ParseDescription(strings.Repeat("ä", 150))
	assertEqual(t, "runes", d.Summary, strings.Repeat("ä", 99)+"…")
}

func assertDescription(t *testing.T, what string, got, want railyard.Description) {
	t.Helper()
	if !reflect.DeepEqual(got, want) {
		t.Errorf("%s: got %#v, want %#v", what, got, want)
	}
}
