package main

import (
	"bufio"
	"context"
	"errors"
	"io"
	"io/fs"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/railyard-cd/railyard/internal/syncbuf"
)

// startServe runs `railyard serve` in-process with env as its environment
// and returns the URL it printed, its log, and a function that stops it
// and returns Run's error.
func startServe(t *testing.T, env map[string]string, args ...string) (url string, log *syncbuf.Buffer, stop func() error) {
	t.Helper()
	pr, pw := io.Pipe()
	log = &syncbuf.Buffer{}
	m := &Main{Stdout: pw, Stderr: log, Getenv: func(k string) string { return env[k] }, Now: time.Now}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		err := m.Run(ctx, append([]string{"serve"}, args...))
		pw.Close()
		done <- err
	}()
	stop = func() error {
		cancel()
		select {
		case err := <-done:
			return err
		case <-time.After(time.Minute):
			t.Fatal("serve did not stop within a minute of its context being cancelled")
			return nil
		}
	}
	line, err := bufio.NewReader(pr).ReadString('\n')
	if err != nil {
		t.Fatalf("serve printed no address: %v (Run: %v)\nlog:\n%s", err, stop(), log)
	}
	go func() { _, _ = io.Copy(io.Discard, pr) }()
	url, ok := strings.CutPrefix(strings.TrimSuffix(line, "\n"), "Railyard listening on ")
	if !ok {
		t.Fatalf("serve printed %q, want \"Railyard listening on <url>\"", line)
	}
	return url, log, stop
}

// TestServe starts the server in-process from environment variables, uses
// it, and stops it as a signal would, checking for a clean shutdown.
func TestServe(t *testing.T) {
	t.Parallel()
	dataDir := filepath.Join(t.TempDir(), "data")
	url, log, stop := startServe(t, map[string]string{"RAILYARD_DATA_DIR": dataDir, "RAILYARD_LISTEN": "127.0.0.1:0"}, "--log-format", "json")

	resp, err := http.Get(url + "/readyz")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("GET /readyz: %s", resp.Status)
	}
	c := newCLI(t, url)
	equal(t, "env apply", c.ok("env", "apply", "-f", writeFile(t, t.TempDir(), "envs.yaml", environmentsYAML)),
		"created environment development\ncreated environment staging\ncreated environment production\n")

	if err := stop(); err != nil {
		t.Fatalf("serve: %v\nlog:\n%s", err, log)
	}
	info, err := os.Stat(dataDir)
	if err != nil {
		t.Fatal(err)
	}
	if perm := info.Mode().Perm(); perm != 0o700 {
		t.Errorf("data directory mode = %o, want 700", perm)
	}
	if _, err := os.Stat(filepath.Join(dataDir, "railyard.db")); err != nil {
		t.Errorf("database: %v", err)
	}
	for _, want := range []string{`"msg":"serving"`, `"msg":"shutting down"`, `"msg":"stopped"`} {
		if !strings.Contains(log.String(), want) {
			t.Errorf("log has no %s:\n%s", want, log)
		}
	}

	// The data survives a restart.
	// (--lock-expiry-interval is the former name of --reconcile-interval.)
	url, log, stop = startServe(t, nil, "--data-dir", dataDir, "--listen", "127.0.0.1:0", "--lock-expiry-interval", "1h", "--train-catch-up", "0s")
	if got := newCLI(t, url).ok("env", "list", "-o", "json"); strings.Count(got, `"name":`) != 3 {
		t.Errorf("after restart, env list:\n%s", got)
	}
	if err := stop(); err != nil {
		t.Fatalf("serve: %v\nlog:\n%s", err, log)
	}
}

// TestServeAddressInUse checks that a taken port is reported with a hint
// about --listen, before the data directory is created.
func TestServeAddressInUse(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	addr := ln.Addr().String()
	dataDir := filepath.Join(t.TempDir(), "data")
	stderr := newCLI(t, "").fail(exitError, "serve", "--data-dir", dataDir, "--listen", addr)
	equal(t, "stderr", stderr, "Error: cannot listen on "+addr+" (--listen): the address is already in use\n"+
		"Hint: another program (another railyard serve?) listens on "+addr+": stop it, or choose another address with --listen or RAILYARD_LISTEN (port 0 picks a free one, and serve prints its URL)\n")
	if _, err := os.Stat(dataDir); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("the data directory was created (%v): serve must listen first", err)
	}
}
