package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"mime/multipart"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestServe_HTTPEdge runs serve as `make run` would, with the limits from
// the environment, and attacks it the way issue 10 did: a release posted
// by another site, a page reached through DNS rebinding, a form body that
// trickles, a full disk.
func TestServe_HTTPEdge(t *testing.T) {
	t.Parallel()
	dataDir := filepath.Join(t.TempDir(), "data")
	base, log, stop := startServe(t, map[string]string{
		"RAILYARD_BODY_TIMEOUT":  "500ms",
		"RAILYARD_MIN_BODY_RATE": "1000",
		"RAILYARD_WRITE_TIMEOUT": "2s",
	}, "--data-dir", dataDir, "--listen", "127.0.0.1:0")
	defer func() {
		if err := stop(); err != nil {
			t.Errorf("serve: %v\nlog:\n%s", err, log)
		}
	}()
	newCLI(t, base).ok("env", "apply", "-f", writeFile(t, t.TempDir(), "envs.yaml", environmentsYAML))

	t.Run("a release posted by another site", func(t *testing.T) {
		ct, body := releaseForm(t)
		code, answer := send(t, "POST", base+"/release", body, map[string]string{
			"Content-Type": ct, "Origin": "https://evil.example", "Sec-Fetch-Site": "cross-site"})
		wantJSONError(t, code, answer, 403, "forbidden", "Sec-Fetch-Site")
		// CI sends neither header.
		code, answer = send(t, "POST", base+"/release", body, map[string]string{"Content-Type": ct})
		if code != 201 {
			t.Fatalf("the same release from CI: %d %s", code, answer)
		}
	})

	t.Run("a web UI form posted by another site", func(t *testing.T) {
		code, answer := send(t, "POST", base+"/ui/identity", []byte("name=Eve&email=eve%40evil.example"), map[string]string{
			"Content-Type": "application/x-www-form-urlencoded", "Origin": "https://evil.example", "Sec-Fetch-Site": "cross-site"})
		wantJSONError(t, code, answer, 403, "forbidden", "Sec-Fetch-Site")
	})

	t.Run("a page reached through DNS rebinding", func(t *testing.T) {
		port := strings.TrimPrefix(base, "http://127.0.0.1:")
		for _, path := range []string{"/", "/api/v1/overview", "/git/manifests.git/info/refs?service=git-upload-pack"} {
			code, answer := send(t, "GET", base+path, nil, map[string]string{"Host": "evil.example:" + port})
			wantJSONError(t, code, answer, 403, "forbidden", "Host")
			if code, answer := send(t, "GET", base+path, nil, map[string]string{"Host": "localhost:" + port}); code != 200 {
				t.Errorf("GET %s as localhost: %d %s", path, code, answer)
			}
		}
	})

	t.Run("a form body that trickles", func(t *testing.T) {
		conn, err := net.Dial("tcp", strings.TrimPrefix(base, "http://"))
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		start := time.Now()
		fmt.Fprintf(conn, "POST /ui/identity HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 1000\r\n\r\nname=E")
		_ = conn.SetReadDeadline(time.Now().Add(10 * time.Second))
		resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
		if err != nil {
			t.Fatalf("no answer to a stalled form: %v", err)
		}
		page, _ := io.ReadAll(resp.Body)
		took := time.Since(start)
		if resp.StatusCode != 408 || !strings.Contains(string(page), "The form did not arrive") || took < 500*time.Millisecond || took > 5*time.Second {
			t.Errorf("got %d after %s, want 408 after the 500ms body timeout:\n%s", resp.StatusCode, took, page)
		}
	})

	t.Run("git clone through the guard", func(t *testing.T) {
		dir := filepath.Join(t.TempDir(), "clone")
		if out, err := exec.Command("git", "clone", "--quiet", base+gitRepoPath, dir).CombinedOutput(); err != nil {
			t.Fatalf("git clone: %v\n%s", err, out)
		}
	})

	t.Run("readiness on a full disk", func(t *testing.T) {
		if code, answer := send(t, "GET", base+"/readyz", nil, nil); code != 200 {
			t.Fatalf("/readyz: %d %s", code, answer)
		}
		// The probe's path leads to /dev/full: every write fails with
		// ENOSPC, as on a full disk.
		probe := filepath.Join(dataDir, readyProbeName)
		if err := os.Symlink("/dev/full", probe); err != nil {
			t.Fatal(err)
		}
		code, answer := send(t, "GET", base+"/readyz", nil, nil)
		if want := `{"status":"unavailable","message":"the data directory cannot be written: no space left on device"}`; code != 503 || strings.TrimSpace(answer) != want {
			t.Errorf("/readyz on a full disk: %d %s, want 503 %s", code, answer, want)
		}
		if err := os.Remove(probe); err != nil {
			t.Fatal(err)
		}
		if code, answer := send(t, "GET", base+"/readyz", nil, nil); code != 200 {
			t.Errorf("/readyz once the disk has room: %d %s", code, answer)
		}
		if _, err := os.Lstat(probe); !os.IsNotExist(err) {
			t.Errorf("the probe file is left behind: %v", err)
		}
	})

	t.Run("the refusals are counted", func(t *testing.T) {
		_, metrics := send(t, "GET", base+"/metrics", nil, nil)
		for _, want := range []string{`railyard_http_refused_requests_total{reason="cross_origin"} 2`, `railyard_http_refused_requests_total{reason="host"} 3`,
			`railyard_http_refused_requests_total{reason="body_timeout"} 1`, "railyard_http_request_body_bytes 0"} {
			if !strings.Contains(metrics, want) {
				t.Errorf("/metrics has no %s", want)
			}
		}
	})
}

func TestServe_HTTPFlagErrors(t *testing.T) {
	t.Parallel()
	c := newCLI(t, "")
	dataDir := filepath.Join(t.TempDir(), "data")
	cases := []struct {
		env  map[string]string
		args []string
		want string
	}{
		{map[string]string{"RAILYARD_BODY_TIMEOUT": "soon"}, nil, `RAILYARD_BODY_TIMEOUT="soon" is not a valid --body-timeout`},
		{map[string]string{"RAILYARD_MIN_BODY_RATE": "fast"}, nil, `RAILYARD_MIN_BODY_RATE="fast" is not a valid --min-body-rate`},
		{nil, []string{"--idle-timeout", "0s"}, "--idle-timeout must be positive"},
		{nil, []string{"--max-body-memory", "1000"}, "--max-body-memory (1000) must be at least --max-request-bytes (67108864)"},
		{nil, []string{"--allowed-hosts", "evil.example:8080"}, `--allowed-hosts: "evil.example:8080" is not a host name`},
		{nil, []string{"--allowed-hosts", "a.*.example"}, `--allowed-hosts: "a.*.example" is not a host name`},
		{nil, []string{"--allowed-hosts", "*example.com"}, `--allowed-hosts: "*example.com" is not a host name`},
		{nil, []string{"--allowed-hosts", "localhost,,x"}, `--allowed-hosts: "" is not a host name`},
	}
	for _, tc := range cases {
		for k, v := range tc.env {
			c.env[k] = v
		}
		stderr := c.fail(2, append([]string{"serve", "--data-dir", dataDir, "--listen", "127.0.0.1:0"}, tc.args...)...)
		if !strings.Contains(stderr, tc.want) {
			t.Errorf("env %v, flags %v: stderr %q does not say %q", tc.env, tc.args, stderr, tc.want)
		}
		for k := range tc.env {
			delete(c.env, k)
		}
	}
	if _, err := os.Stat(dataDir); !os.IsNotExist(err) {
		t.Errorf("a refused flag created the data directory: %v", err)
	}
}

func TestResolveAllowedHosts(t *testing.T) {
	t.Parallel()
	loopback := &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 8080}
	loopback6 := &net.TCPAddr{IP: net.IPv6loopback, Port: 8080}
	any := &net.TCPAddr{IP: net.IPv4zero, Port: 8080}
	lan := &net.TCPAddr{IP: net.IPv4(10, 1, 2, 3), Port: 8080}
	cases := []struct {
		flag []string
		addr net.Addr
		want []string
		warn bool
	}{
		{nil, loopback, []string{"localhost", "*.localhost"}, false},
		{nil, loopback6, []string{"localhost", "*.localhost"}, false},
		{nil, any, nil, true},
		{nil, lan, nil, true},
		{[]string{"railyard.example.com"}, any, []string{"railyard.example.com"}, false},
		{[]string{"railyard.example.com"}, loopback, []string{"railyard.example.com"}, false},
		{[]string{"*"}, loopback, nil, false},
	}
	for _, c := range cases {
		var log bytes.Buffer
		o := &httpOptions{allowedHosts: c.flag}
		got := o.resolveAllowedHosts(c.addr, slog.New(slog.NewTextHandler(&log, nil)))
		if fmt.Sprint(got) != fmt.Sprint(c.want) || strings.Contains(log.String(), "DNS rebinding") != c.warn {
			t.Errorf("--allowed-hosts %v on %s: got %v (log %q), want %v (warning %v)", c.flag, c.addr, got, log.String(), c.want, c.warn)
		}
	}
}

// releaseForm is a Kuberpult release upload of checkout 1.
func releaseForm(t *testing.T) (string, []byte) {
	t.Helper()
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	for k, v := range map[string]string{"application": "checkout", "version": "1", "team": "payments"} {
		if err := w.WriteField(k, v); err != nil {
			t.Fatal(err)
		}
	}
	fw, err := w.CreateFormFile("manifests[development]", "development")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.WriteString(fw, manifest("1.0.0")); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return w.FormDataContentType(), buf.Bytes()
}

// send sends a request with the given headers ("Host" sets the Host
// header) and returns the status and the body.
func send(t *testing.T, method, rawURL string, body []byte, header map[string]string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(method, rawURL, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		if k == "Host" {
			req.Host = v
			continue
		}
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, rawURL, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(data)
}

// wantJSONError checks an error answer: status, code and field.
func wantJSONError(t *testing.T, code int, answer string, status int, errCode, field string) {
	t.Helper()
	var e struct{ Code, Message, Field string }
	if err := json.Unmarshal([]byte(answer), &e); err != nil || code != status || e.Code != errCode || e.Field != field || e.Message == "" {
		t.Errorf("got %d %s, want %d with code %s, field %s and a message", code, answer, status, errCode, field)
	}
}
