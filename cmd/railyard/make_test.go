package main

import (
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/railyard-cd/railyard/internal/syncbuf"
)

// TestMakeRun runs the README's `make run` as a person does, on a port the
// kernel picks and with a temporary data directory, and stops it as Ctrl-C
// does: SIGINT to the whole foreground process group. make must end
// without an error of its own (with `go run`, which exits 1 on the signal,
// it printed "make: *** [Makefile:17: run] Error 1"), the server must have
// shut down cleanly, and the binary make built must say what it is.
func TestMakeRun(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary with make and runs a server process: skipped with -short")
	}
	t.Parallel()
	if signal.Ignored(os.Interrupt) {
		// Started in the background by a shell, which ignores SIGINT for
		// its background jobs: make would inherit that and never see the
		// signal. A handler here resets it to the default for the
		// processes started from now on; the test binary ignored SIGINT
		// anyway.
		signal.Notify(make(chan os.Signal, 1), os.Interrupt)
	}
	bin := filepath.Join(t.TempDir(), "railyard")
	data := filepath.Join(t.TempDir(), "data")
	out := &syncbuf.Buffer{}
	cmd := exec.Command("make", "--no-print-directory", "run", "BIN="+bin, "ARGS=--listen 127.0.0.1:0 --data-dir "+data)
	cmd.Dir = filepath.Join("..", "..")
	cmd.Stdout, cmd.Stderr = out, out
	// As from a user's shell, not as a sub-make of `make test`.
	cmd.Env = slices.DeleteFunc(os.Environ(), func(kv string) bool {
		return strings.HasPrefix(kv, "MAKEFLAGS=") || strings.HasPrefix(kv, "MFLAGS=") || strings.HasPrefix(kv, "MAKELEVEL=")
	})
	// A process group of its own, as a shell gives a foreground job: the
	// terminal sends Ctrl-C's SIGINT to every process of the group.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	go func() {
		_ = cmd.Wait()
		close(exited)
	}()
	t.Cleanup(func() {
		select {
		case <-exited:
		default:
			_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			<-exited
		}
	})
	waitForOutput(t, out, exited, listeningRE, 5*time.Minute)

	if err := syscall.Kill(-cmd.Process.Pid, syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	select {
	case <-exited:
	case <-time.After(time.Minute):
		t.Fatalf("make run did not end within a minute of SIGINT\n%s", out)
	}
	// GNU make ends an interrupted run by killing itself with the same
	// signal, silently when its job ended well; a failed job makes it
	// print "make: *** … Error N" first.
	state := cmd.ProcessState
	if ws, ok := state.Sys().(syscall.WaitStatus); !state.Success() && !(ok && ws.Signaled() && ws.Signal() == syscall.SIGINT) {
		t.Errorf("make run ended with %v after SIGINT, want exit 0 or SIGINT\n%s", state, out)
	}
	log := out.String()
	if makeErrorRE.MatchString(log) {
		t.Errorf("make run reported an error after Ctrl-C:\n%s", log)
	}
	if !strings.Contains(log, "level=INFO msg=stopped") {
		t.Errorf("the server did not shut down cleanly:\n%s", log)
	}
	checkStampedVersion(t, bin, cmd.Dir)
}

// makeErrorRE finds make's own error line ("make: *** [Makefile:17: run]
// Error 1", "make[1]: *** …" in a sub-make).
var makeErrorRE = regexp.MustCompile(`(?m)^make(\[\d+\])?: \*\*\*`)

// checkStampedVersion runs `railyard version` of a binary built by `make
// build` in the checkout dir: it must name what git says of the checkout.
func checkStampedVersion(t *testing.T, bin, dir string) {
	t.Helper()
	git := func(args ...string) string {
		c := exec.Command("git", args...)
		c.Dir = dir
		out, _ := c.Output() // outside a Git checkout: "", as the Makefile gets
		return firstNonEmpty(strings.TrimSpace(string(out)), unknown)
	}
	out, err := exec.Command(bin, "version").Output()
	if err != nil {
		t.Fatalf("railyard version: %v", err)
	}
	lines := strings.Split(string(out), "\n")
	if len(lines) != 5 || lines[4] != "" {
		t.Fatalf("railyard version printed %q, want four lines", out)
	}
	equal(t, "version line", lines[0], "railyard "+git("describe", "--tags", "--always", "--dirty"))
	equal(t, "commit line", lines[1], "commit: "+git("rev-parse", "HEAD"))
	if !regexp.MustCompile(`^built:  \d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$`).MatchString(lines[2]) {
		t.Errorf("built line = %q, want the build time in UTC", lines[2])
	}
	equal(t, "go line", lines[3], "go:     "+goLine)
}

// waitForOutput waits until out matches re, failing when the process
// exits first or the time is up.
func waitForOutput(t *testing.T, out *syncbuf.Buffer, exited <-chan struct{}, re *regexp.Regexp, timeout time.Duration) {
	t.Helper()
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for !re.MatchString(out.String()) {
		select {
		case <-exited:
			t.Fatalf("the process ended before printing %q:\n%s", re, out)
		case <-deadline.C:
			t.Fatalf("no %q within %s:\n%s", re, timeout, out)
		case <-tick.C:
		}
	}
}
