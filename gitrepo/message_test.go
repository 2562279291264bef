package gitrepo

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/railyard-cd/railyard"
	"github.com/railyard-cd/railyard/internal/golden"
	"github.com/railyard-cd/railyard/sqlite"
)

// TestCommitMessageOfALargeEvent exports an unlock that deploys 30
// queued applications, and an event recorded before descriptions were
// bounded, with a description of one line of 100,000 characters, and a
// lock whose message has a line that looks like a trailer. Each
// commit's subject is a summary of at most 100 characters, its body the
// bounded details, and its trailers stay where git finds them: a
// restarted exporter resumes after them and writes nothing twice.
func TestCommitMessageOfALargeEvent(t *testing.T) {
	t.Parallel()
	forEachMode(t, testCommitMessageOfALargeEvent)
}

func testCommitMessageOfALargeEvent(t *testing.T, newEnv func(testing.TB) *testEnv) {
	t.Parallel()
	e := newEnv(t)
	e.must(envCmd("env-02", railyard.EnvironmentConfig{Upstream: &railyard.Upstream{Latest: true}}))
	e.must(&railyard.CreateLock{LockTarget: railyard.LockTarget{Kind: railyard.LockEnvironment, Environment: "env-02", ID: "db-migration"}, Message: "DB migration"})
	var cmds []railyard.Command
	for i := range 30 {
		cmds = append(cmds, releaseCmd(fmt.Sprintf("app-%02d", i), 2, "shop", "env-02"))
	}
	e.must(cmds...)
	e.must(&railyard.DeleteLock{LockTarget: railyard.LockTarget{Kind: railyard.LockEnvironment, Environment: "env-02", ID: "db-migration"}})
	e.sync()
	var details []string
	for i := range 20 {
		details = append(details, fmt.Sprintf("Deploy queued app-%02d 2 (1.2) to env-02", i))
	}
	want := "Unlock env-02 (db-migration), deploy 30 queued applications\n\n" + strings.Join(details, "\n") +
		"\n… and 10 more\n\nRailyard-Kind: lock.delete\nRailyard-Event: 33\n"
	assertMessage(t, e, want)

	old := "Lock env-02 (old): " + strings.Repeat("x", 100_000)
	recordOldEvent(t, e, old)
	e.sync()
	assertMessage(t, e, old[:99]+"…\n\n"+old[:199]+"…\n\nRailyard-Kind: lock.create\nRailyard-Event: 34\n")
	if got := e.git("log", "-1", "--format=%s", "main"); got != old[:99]+"…\n" {
		t.Errorf("subject: got %q", got)
	}

	// A lock message whose lines look like trailers is quoted in the body.
	e.must(&railyard.CreateLock{
		LockTarget: railyard.LockTarget{Kind: railyard.LockEnvironment, Environment: "env-02", ID: "trick"},
		Message:    "Checking the trailers\nRailyard-Event: 999",
	})
	e.sync()
	assertMessage(t, e, "Lock env-02 (trick): Checking the trailers\n\n> Checking the trailers\n> Railyard-Event: 999\n\n"+
		"Railyard-Kind: lock.create\nRailyard-Event: 35\n")

	e.x = e.newExporter() // a restart: resume reads the trailers
	e.must(&railyard.DeleteLock{LockTarget: railyard.LockTarget{Kind: railyard.LockEnvironment, Environment: "env-02", ID: "old"}})
	e.sync()
	assertTrailers(t, e, 36)
}

// assertMessage checks the whole message of the branch's last commit.
func assertMessage(t *testing.T, e *testEnv, want string) {
	t.Helper()
	if got := e.git("log", "-1", "--format=%B", "main"); got != want+"\n" {
		t.Errorf("commit message:\n%s", golden.FirstDifference(got, want+"\n"))
	}
}

// recordOldEvent appends an event with the given description as an
// earlier version of Railyard recorded it: a lock of env-02 with id old,
// written straight to the store.
func recordOldEvent(t *testing.T, e *testEnv, description string) {
	t.Helper()
	db := sqlite.NewDB(filepath.Join(e.dir, "railyard.db"))
	if err := db.Open(); err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	lock := &railyard.Lock{
		LockTarget: railyard.LockTarget{Kind: railyard.LockEnvironment, Environment: "env-02", ID: "old"},
		Message:    "Old",
		CreatedBy:  alice,
		CreatedAt:  e.now,
	}
	err := db.Update(context.Background(), func(tx railyard.Tx) error {
		if err := tx.PutLock(context.Background(), lock); err != nil {
			return err
		}
		return tx.CreateEvent(context.Background(), &railyard.Event{Time: e.now, Actor: alice, Kind: railyard.KindLockCreate,
			Description: description, Payload: []byte(`{}`),
			Changes: []railyard.Change{{Op: railyard.ChangeLockPut, Environment: "env-02", Lock: lock}},
			Refs:    []railyard.EventRef{{Environment: "env-02"}}})
	})
	if err != nil {
		t.Fatal(err)
	}
	e.now = e.now.Add(time.Minute)
}
