package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/railyard-cd/railyard"
	rhttp "github.com/railyard-cd/railyard/http"
	"github.com/railyard-cd/railyard/internal/golden"
	"github.com/railyard-cd/railyard/internal/syncbuf"
)

// TestEndToEnd builds the railyard binary, runs `railyard serve` as a
// separate process, and walks the README's "Five minutes with the CLI"
// with the binary: the files the README shows are written, the commands of
// its console blocks run, and their outputs must be exactly what the
// README shows (times aside). `go test -run TestEndToEnd -update` rewrites
// the README's outputs with what the commands print.
func TestEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary and runs a server process: skipped with -short")
	}
	t.Parallel()
	readmePath := filepath.Join("..", "..", "README.md")
	readme, err := parseReadme(readmePath)
	if err != nil {
		t.Fatal(err)
	}
	checkWalkthrough(t, readme)

	bin := buildBinary(t)
	work := t.TempDir()
	for name, content := range readme.files {
		writeFile(t, work, name, content)
	}
	// serve runs as `make run` runs it: with the default data directory,
	// ./railyard-data, relative to its working directory.
	serverDir := t.TempDir()
	srv := startServer(t, bin, serverDir)
	// The reader of the README is Jane Doe, with her name in git's
	// configuration, as the README says; nothing else names the author.
	home := t.TempDir()
	writeFile(t, home, ".gitconfig", "[user]\n\tname = "+readmeAuthor+"\n\temail = jane@example.com\n")
	env := []string{"PATH=" + os.Getenv("PATH"), "HOME=" + home, "RAILYARD_SERVER=" + srv.url}

	for _, block := range readme.blocks {
		for i, step := range block.steps {
			args, err := splitCommandLine(strings.TrimPrefix(step.command, "railyard "))
			if err != nil {
				t.Fatalf("README: %s: %v", step.command, err)
			}
			out, code := runBinary(t, bin, work, env, args...)
			if code != 0 {
				t.Fatalf("$ %s\nexit code %d, want 0\n%s\nserver log:\n%s", step.command, code, out, srv.log)
			}
			if golden.Update() {
				block.steps[i].output = out
				continue
			}
			if got, want := normalizeTimes(out), normalizeTimes(step.output); got != want {
				t.Errorf("$ %s\noutput differs from the README (run `go test ./cmd/railyard -run TestEndToEnd -update` if the new output is right)\n--- got:\n%s--- README:\n%s", step.command, got, want)
			}
		}
	}
	if golden.Update() {
		if err := os.WriteFile(readmePath, []byte(readme.render()), 0o644); err != nil {
			t.Fatal(err)
		}
	}

	// What the walkthrough promises: version 2 runs in development and, after the train, in staging; nothing waits.
	out, code := runBinary(t, bin, work, env, "status", "checkout", "-o", "json")
	var detail railyard.ApplicationDetail
	if err := json.Unmarshal([]byte(out), &detail); code != 0 || err != nil {
		t.Fatalf("status -o json: exit code %d, %v\n%s", code, err, out)
	}
	if dev := detail.Environments["development"]; dev == nil || dev.Version == nil || *dev.Version != 2 || dev.QueuedVersion != nil || len(dev.Locks) != 0 {
		t.Errorf("development after the walkthrough = %+v, want version 2 running, nothing queued, no locks", dev)
	}
	if stg := detail.Environments["staging"]; stg == nil || stg.Version == nil || *stg.Version != 2 {
		t.Errorf("staging after the walkthrough = %+v, want version 2, brought by the release train", stg)
	}
	checkGitExport(t, srv.url)
	srv.stop(t)
	if _, err := os.Stat(filepath.Join(serverDir, "railyard-data", "git", "manifests.git", "HEAD")); err != nil {
		t.Errorf("the manifest repository is not in the default data directory: %v", err)
	}
}

// checkGitExport waits until the export has caught up, then clones the
// built-in Git server and checks what the walkthrough did: version 2 of
// checkout deployed in development.
func checkGitExport(t *testing.T, url string) {
	t.Helper()
	c := rhttp.NewClient(url)
	deadline := time.Now().Add(time.Minute)
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for range tick.C {
		st, err := c.ExportStatus(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if st.Enabled && st.PendingEvents == 0 && st.LastExportedEventID == st.LastEventID {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the export did not catch up within a minute: %+v", st)
		}
	}
	clone := filepath.Join(t.TempDir(), "manifests")
	if out, err := exec.Command("git", "clone", "--quiet", url+"/git/manifests.git", clone).CombinedOutput(); err != nil {
		t.Fatalf("git clone from the built-in server: %v\n%s", err, out)
	}
	target, err := os.Readlink(filepath.Join(clone, "environments/development/applications/checkout/version"))
	if err != nil || target != "../../../../applications/checkout/releases/2" {
		t.Errorf("development's version link: got %q, %v", target, err)
	}
	if _, err := os.Stat(filepath.Join(clone, "argocd/v1alpha1/development/checkout.yaml")); err != nil {
		t.Errorf("no Argo CD Application for checkout in development: %v", err)
	}
}

// readmeAuthor is the git user.name of the README's reader: the author its
// outputs show.
const readmeAuthor = "Jane Doe"

// checkWalkthrough makes sure the README still walks the quick start, so
// that editing it cannot quietly empty this test, and tells the reader
// whose name its outputs show and where that name comes from.
func checkWalkthrough(t *testing.T, r *readme) {
	t.Helper()
	if says := "whose `git config user.name` is `" + readmeAuthor + "`"; !strings.Contains(strings.Join(r.lines, " "), says) {
		t.Errorf("README's walkthrough must say that its outputs were recorded by someone %s: the test runs the commands so", says)
	}
	var commands []string
	for _, b := range r.blocks {
		for _, s := range b.steps {
			fields := strings.Fields(s.command)
			commands = append(commands, strings.Join(fields[1:min(3, len(fields))], " "))
		}
	}
	want := []string{"env apply", "release checkout", "status checkout", "lock env", "release checkout", "status checkout", "unlock env", "status checkout",
		"train staging", "status checkout"}
	i := 0
	for _, c := range commands {
		if i < len(want) && c == want[i] {
			i++
		}
	}
	if i < len(want) || r.files["environments.yaml"] == "" {
		t.Fatalf("README's walkthrough must create environments.yaml and run, in order: %s; it runs: %s", strings.Join(want, ", "), strings.Join(commands, ", "))
	}
}

// buildBinary builds railyard into a temporary directory.
func buildBinary(t testing.TB) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "railyard")
	cmd := exec.Command("go", "build", "-buildvcs=false", "-o", bin, ".")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// serverProcess is `railyard serve` running as a process.
type serverProcess struct {
	cmd    *exec.Cmd
	url    string
	log    *syncbuf.Buffer
	exited chan struct{}
}

// startServer runs `railyard serve` with args in the working directory
// dir, on a port the kernel picks, learns the URL from the line the server
// prints, and waits until /readyz answers. (Picking a free port first and
// passing it would race with every other test that opens a port
// meanwhile.)
func startServer(t testing.TB, bin, dir string, args ...string) *serverProcess {
	t.Helper()
	s := &serverProcess{log: &syncbuf.Buffer{}, exited: make(chan struct{})}
	s.cmd = exec.Command(bin, append([]string{"serve", "--listen", "127.0.0.1:0"}, args...)...)
	s.cmd.Dir = dir
	s.cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir()}
	s.cmd.Stdout, s.cmd.Stderr = s.log, s.log
	if err := s.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		_ = s.cmd.Wait()
		close(s.exited)
	}()
	t.Cleanup(func() {
		select {
		case <-s.exited:
		default:
			_ = s.cmd.Process.Kill()
			<-s.exited
		}
	})
	if err := s.waitReady(time.Minute); err != nil {
		t.Fatalf("%v\nserver log:\n%s", err, s.log)
	}
	return s
}

// listeningRE finds the line serve prints once it accepts connections.
var listeningRE = regexp.MustCompile(`(?m)^Railyard listening on (http://127\.0\.0\.1:[0-9]+)$`)

// waitReady waits for the listening line, then polls /readyz until it
// answers 200, the process exits or the deadline passes.
func (s *serverProcess) waitReady(timeout time.Duration) error {
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	client := &http.Client{Timeout: time.Second}
	for {
		if s.url == "" {
			if m := listeningRE.FindStringSubmatch(s.log.String()); m != nil {
				s.url = m[1]
			}
		}
		if s.url != "" {
			if resp, err := client.Get(s.url + "/readyz"); err == nil {
				resp.Body.Close()
				if resp.StatusCode == http.StatusOK {
					return nil
				}
			}
		}
		select {
		case <-s.exited:
			return fmt.Errorf("railyard serve exited before it was ready: %v", s.cmd.ProcessState)
		case <-deadline.C:
			return fmt.Errorf("railyard serve was not ready within %s", timeout)
		case <-tick.C:
		}
	}
}

// stop sends SIGTERM and expects a clean exit.
func (s *serverProcess) stop(t testing.TB) {
	t.Helper()
	if err := s.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case <-s.exited:
	case <-time.After(time.Minute):
		t.Fatalf("railyard serve did not exit within a minute of SIGTERM\n%s", s.log)
	}
	if code := s.cmd.ProcessState.ExitCode(); code != 0 {
		t.Errorf("railyard serve exited with %d after SIGTERM, want 0\n%s", code, s.log)
	}
}

// runBinary runs the binary in dir and returns what it printed (standard
// output and error, in order) and its exit code.
func runBinary(t *testing.T, bin, dir string, env []string, args ...string) (string, int) {
	t.Helper()
	var out bytes.Buffer
	cmd := exec.Command(bin, args...)
	cmd.Dir, cmd.Env = dir, env
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	if _, ok := err.(*exec.ExitError); err != nil && !ok {
		t.Fatalf("run railyard %s: %v", strings.Join(args, " "), err)
	}
	return out.String(), cmd.ProcessState.ExitCode()
}

var timeRE = regexp.MustCompile(`\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}`)

// normalizeTimes replaces the times tables print, which differ on every run.
func normalizeTimes(s string) string {
	return timeRE.ReplaceAllString(s, "YYYY-MM-DD hh:mm:ss")
}

// readme is README.md as lines, with the files and console blocks of its
// walkthrough.
type readme struct {
	lines  []string
	files  map[string]string
	blocks []*consoleBlock
}

// consoleBlock is a ```console block: its place in the lines and its steps.
type consoleBlock struct {
	start, end int // the lines between the fences
	steps      []step
}

// step is one "$ railyard …" line and the output below it.
type step struct {
	command string
	output  string
}

var fileNameRE = regexp.MustCompile("`([A-Za-z0-9._-]+)`:$")

// parseReadme reads the walkthrough: a ```yaml block right after a line
// ending in "`<file>`:" is a file to write; a ```console block holds
// "$ railyard …" commands, each followed by its output.
func parseReadme(path string) (*readme, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	r := &readme{lines: strings.Split(string(data), "\n"), files: map[string]string{}}
	for i := 0; i < len(r.lines); i++ {
		fence := r.lines[i]
		if fence != "```yaml" && fence != "```console" {
			continue
		}
		end := i + 1
		for end < len(r.lines) && r.lines[end] != "```" {
			end++
		}
		if end == len(r.lines) {
			return nil, fmt.Errorf("%s:%d: unterminated code block", path, i+1)
		}
		body := r.lines[i+1 : end]
		switch {
		case fence == "```console":
			block, err := parseConsole(body)
			if err != nil {
				return nil, fmt.Errorf("%s:%d: %v", path, i+1, err)
			}
			block.start, block.end = i+1, end
			r.blocks = append(r.blocks, block)
		default:
			if m := fileNameRE.FindStringSubmatch(lineBefore(r.lines, i)); m != nil {
				r.files[m[1]] = strings.Join(body, "\n") + "\n"
			}
		}
		i = end
	}
	return r, nil
}

// lineBefore returns the last non-blank line before line i.
func lineBefore(lines []string, i int) string {
	for i--; i >= 0; i-- {
		if strings.TrimSpace(lines[i]) != "" {
			return lines[i]
		}
	}
	return ""
}

func parseConsole(body []string) (*consoleBlock, error) {
	b := &consoleBlock{}
	for _, line := range body {
		if cmd, ok := strings.CutPrefix(line, "$ "); ok {
			if !strings.HasPrefix(cmd, "railyard ") {
				return nil, fmt.Errorf("console blocks run only railyard commands, got %q", line)
			}
			b.steps = append(b.steps, step{command: cmd})
			continue
		}
		if len(b.steps) == 0 {
			return nil, fmt.Errorf("output before the first command: %q", line)
		}
		b.steps[len(b.steps)-1].output += line + "\n"
	}
	return b, nil
}

// render returns the README with the console blocks' current outputs.
func (r *readme) render() string {
	var out []string
	prev := 0
	for _, b := range r.blocks {
		out = append(out, r.lines[prev:b.start]...)
		for _, s := range b.steps {
			out = append(out, "$ "+s.command)
			out = append(out, strings.Split(strings.TrimSuffix(s.output, "\n"), "\n")...)
		}
		prev = b.end
	}
	out = append(out, r.lines[prev:]...)
	return strings.Join(out, "\n")
}

// splitCommandLine splits a command line into words the way a shell does
// for plain words and "double-quoted strings".
func splitCommandLine(s string) ([]string, error) {
	var words []string
	var cur strings.Builder
	inWord, quoted := false, false
	for _, r := range s {
		switch {
		case r == '"':
			quoted = !quoted
			inWord = true
		case r == ' ' && !quoted:
			if inWord {
				words = append(words, cur.String())
				cur.Reset()
				inWord = false
			}
		default:
			cur.WriteRune(r)
			inWord = true
		}
	}
	if quoted {
		return nil, fmt.Errorf("unterminated quote in %q", s)
	}
	if inWord {
		words = append(words, cur.String())
	}
	return words, nil
}
