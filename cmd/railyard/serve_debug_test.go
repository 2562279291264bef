package main

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/railyard-cd/railyard/internal/syncbuf"
)

// debugURL returns the URL of the profiling endpoints that serve logged
// (in JSON) before it printed its own URL, or "" if it logged none.
func debugURL(t *testing.T, log *syncbuf.Buffer) string {
	t.Helper()
	for _, line := range strings.Split(log.String(), "\n") {
		var entry struct {
			Msg string `json:"msg"`
			URL string `json:"url"`
		}
		if json.Unmarshal([]byte(line), &entry) == nil && entry.Msg == "serving profiling endpoints" {
			return entry.URL
		}
	}
	return ""
}

// httpGet returns the status and body of GET url.
func httpGet(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	return resp.StatusCode, string(body)
}

// TestServeDebugListen checks that --debug-listen serves the pprof
// handlers on a listener of its own, and never on the API's.
func TestServeDebugListen(t *testing.T) {
	t.Parallel()
	url, log, stop := startServe(t, nil, "--data-dir", filepath.Join(t.TempDir(), "data"), "--listen", "127.0.0.1:0",
		"--no-git-export", "--log-format", "json", "--debug-listen", "127.0.0.1:0")
	debug := debugURL(t, log)
	if debug == "" || strings.HasPrefix(debug, url+"/") {
		t.Fatalf("profiling endpoints at %q, want a URL other than the API's %s\nlog:\n%s", debug, url, log)
	}

	code, body := httpGet(t, debug)
	if code != http.StatusOK || !strings.Contains(body, "goroutine") {
		t.Errorf("GET %s: %d, want 200 with the list of profiles:\n%s", debug, code, body)
	}
	for _, name := range debugProfiles {
		if !strings.Contains(body, name) {
			t.Errorf("GET %s lists no %s profile:\n%s", debug, name, body)
		}
	}
	code, body = httpGet(t, debug+"heap?debug=1")
	if code != http.StatusOK || !strings.Contains(body, "heap profile") {
		t.Errorf("GET %sheap?debug=1: %d, want 200 with a heap profile:\n%.500s", debug, code, body)
	}
	for _, path := range []string{"cmdline", "symbol", "goroutine?debug=1"} {
		if code, body := httpGet(t, debug+path); code != http.StatusOK {
			t.Errorf("GET %s%s: %d, want 200:\n%.500s", debug, path, code, body)
		}
	}
	if code, _ := httpGet(t, url+"/debug/pprof/"); code != http.StatusNotFound {
		t.Errorf("GET %s/debug/pprof/ on the API's port: %d, want 404", url, code)
	}

	if err := stop(); err != nil {
		t.Fatalf("serve: %v\nlog:\n%s", err, log)
	}
	if _, err := http.Get(debug); err == nil {
		t.Errorf("GET %s answered after shutdown", debug)
	}
}

// TestServeDebugListen_Env checks that RAILYARD_DEBUG_LISTEN turns the
// profiling endpoints on as --debug-listen does.
func TestServeDebugListen_Env(t *testing.T) {
	t.Parallel()
	_, log, stop := startServe(t, map[string]string{"RAILYARD_DEBUG_LISTEN": "127.0.0.1:0"},
		"--data-dir", filepath.Join(t.TempDir(), "data"), "--listen", "127.0.0.1:0", "--no-git-export", "--log-format", "json")
	debug := debugURL(t, log)
	if debug == "" {
		t.Errorf("with RAILYARD_DEBUG_LISTEN, serve logged no profiling endpoints:\n%s", log)
	} else if code, _ := httpGet(t, debug); code != http.StatusOK {
		t.Errorf("GET %s: %d, want 200", debug, code)
	}
	if err := stop(); err != nil {
		t.Fatalf("serve: %v\nlog:\n%s", err, log)
	}
}

// TestServeDebugListen_Off checks that without --debug-listen there are
// no profiling endpoints: none logged, none on the API's port.
func TestServeDebugListen_Off(t *testing.T) {
	t.Parallel()
	url, log, stop := startServe(t, nil, "--data-dir", filepath.Join(t.TempDir(), "data"), "--listen", "127.0.0.1:0",
		"--no-git-export", "--log-format", "json")
	if debug := debugURL(t, log); debug != "" {
		t.Errorf("without --debug-listen, serve logged profiling endpoints at %s", debug)
	}
	for _, path := range []string{"/debug/pprof/", "/debug/pprof/heap?debug=1"} {
		if code, _ := httpGet(t, url+path); code != http.StatusNotFound {
			t.Errorf("GET %s%s: %d, want 404", url, path, code)
		}
	}
	if err := stop(); err != nil {
		t.Fatalf("serve: %v\nlog:\n%s", err, log)
	}
}

// TestServeCPUProfile checks that --cpu-profile writes a complete,
// gzip-compressed CPU profile by the end of a graceful shutdown.
func TestServeCPUProfile(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "cpu.prof")
	url, log, stop := startServe(t, nil, "--data-dir", filepath.Join(t.TempDir(), "data"), "--listen", "127.0.0.1:0",
		"--cpu-profile", path)
	c := newCLI(t, url)
	c.ok("env", "apply", "-f", writeFile(t, t.TempDir(), "envs.yaml", environmentsYAML))
	if err := stop(); err != nil {
		t.Fatalf("serve: %v\nlog:\n%s", err, log)
	}

	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(data) < 2 || data[0] != 0x1f || data[1] != 0x8b {
		t.Fatalf("the CPU profile (%d bytes) does not start with gzip's magic bytes 1f 8b: % x", len(data), data[:min(len(data), 8)])
	}
	zr, err := gzip.NewReader(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("CPU profile: %v", err)
	}
	raw, err := io.ReadAll(zr)
	if err != nil {
		t.Fatalf("CPU profile: %v", err)
	}
	// The profile's string table names its sample types.
	if !bytes.Contains(raw, []byte("cpu")) || !bytes.Contains(raw, []byte("nanoseconds")) {
		t.Errorf("the CPU profile (%d bytes uncompressed) names no cpu/nanoseconds sample type", len(raw))
	}
	if !strings.Contains(log.String(), "wrote CPU profile") {
		t.Errorf("log has no \"wrote CPU profile\":\n%s", log)
	}
}

// TestServeDebugErrors checks that a profiling flag that cannot work
// fails at start, with a message naming the flag, before the data
// directory is created.
func TestServeDebugErrors(t *testing.T) {
	t.Parallel()
	missingDir := filepath.Join(t.TempDir(), "missing")
	for _, tt := range []struct {
		name string
		args []string
		code int
		want string
	}{{
		name: "debug-listen nonsense",
		args: []string{"--debug-listen", "nonsense"},
		code: exitError,
		want: "Error: listen on nonsense (--debug-listen): listen tcp: address nonsense: missing port in address\n",
	}, {
		name: "debug-listen is the API's address",
		args: []string{"--listen", "127.0.0.1:8080", "--debug-listen", "127.0.0.1:8080"},
		code: exitUsage,
		want: "Error: --debug-listen must not be the address of --listen (127.0.0.1:8080): the profiling endpoints need a listener of their own\n",
	}, {
		name: "cpu-profile in a missing directory",
		args: []string{"--cpu-profile", filepath.Join(missingDir, "cpu.prof")},
		code: exitError,
		want: "Error: create CPU profile (--cpu-profile): open " + filepath.Join(missingDir, "cpu.prof") + ": no such file or directory\n",
	}} {
		t.Run(tt.name, func(t *testing.T) {
			dataDir := filepath.Join(t.TempDir(), "data")
			stderr := newCLI(t, "").fail(tt.code, append([]string{"serve", "--data-dir", dataDir}, tt.args...)...)
			if !strings.Contains(stderr, tt.want) {
				t.Errorf("stderr:\n%s\nwant it to contain:\n%s", stderr, tt.want)
			}
			if _, err := os.Stat(dataDir); !os.IsNotExist(err) {
				t.Errorf("the data directory exists after a failed start (stat: %v)", err)
			}
		})
	}
}
