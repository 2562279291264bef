package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"time"
)

// railyardProcess is a `railyard serve` the tool started for a scenario
// (and the tests for theirs).
type railyardProcess struct {
	cmd *exec.Cmd
	// URL is where it serves; DataDir its data directory, whose
	// git/manifests.git is the default remote it pushes to.
	URL     string
	DataDir string
	exited  chan struct{}
	waitErr error
	// stderr keeps the end of what serve wrote on standard error, for
	// the message when it exits while starting.
	stderr *tailBuffer
}

// listeningRE finds the line serve prints once it accepts connections.
var listeningRE = regexp.MustCompile(`^Railyard listening on (http://\S+)$`)

// startRailyard runs `bin serve` with its data in dataDir on a port the
// kernel picks, and the extra flags, learns the URL from the line serve
// prints, and waits until /readyz answers. Its output goes to log, which
// must be safe for concurrent writes (an *os.File is).
func startRailyard(ctx context.Context, bin, dataDir string, log io.Writer, extra ...string) (*railyardProcess, error) {
	p := &railyardProcess{DataDir: dataDir, exited: make(chan struct{}), stderr: &tailBuffer{max: 2048}}
	p.cmd = exec.Command(bin, append([]string{"serve", "--data-dir", dataDir, "--listen", "127.0.0.1:0"}, extra...)...)
	p.cmd.Stderr = io.MultiWriter(log, p.stderr)
	stdout, err := p.cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := p.cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s serve: %w", bin, err)
	}
	urls := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if m := listeningRE.FindStringSubmatch(sc.Text()); m != nil {
				select {
				case urls <- m[1]:
				default:
				}
			}
			fmt.Fprintln(log, sc.Text())
		}
		// Wait only after stdout is drained, as exec requires.
		p.waitErr = p.cmd.Wait()
		close(p.exited)
	}()
	deadline := time.NewTimer(time.Minute)
	defer deadline.Stop()
	select {
	case p.URL = <-urls:
	case <-p.exited:
		return nil, fmt.Errorf("%s serve exited before listening: %v%s", bin, p.waitErr, p.stderr.lastLines())
	case <-deadline.C:
		p.kill()
		return nil, fmt.Errorf("%s serve did not say where it listens within a minute", bin)
	case <-ctx.Done():
		p.kill()
		return nil, ctx.Err()
	}
	if err := p.waitReady(ctx, deadline.C); err != nil {
		p.kill()
		return nil, err
	}
	return p, nil
}

// waitReady polls /readyz until it answers 200.
func (p *railyardProcess) waitReady(ctx context.Context, deadline <-chan time.Time) error {
	c := &http.Client{Timeout: 5 * time.Second}
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, p.URL+"/readyz", nil)
		if err != nil {
			return err
		}
		if resp, err := c.Do(req); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		select {
		case <-tick.C:
		case <-p.exited:
			return fmt.Errorf("railyard serve exited while starting: %v%s", p.waitErr, p.stderr.lastLines())
		case <-deadline:
			return errors.New("railyard serve did not become ready within a minute")
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// PID is the server's process id.
func (p *railyardProcess) PID() int { return p.cmd.Process.Pid }

// stop asks the server to shut down (SIGTERM: it finishes its requests
// and its last push) and kills it after timeout.
func (p *railyardProcess) stop(timeout time.Duration) error {
	select {
	case <-p.exited:
		return p.waitErr
	default:
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	t := time.NewTimer(timeout)
	defer t.Stop()
	select {
	case <-p.exited:
		return p.waitErr
	case <-t.C:
		p.kill()
		return fmt.Errorf("railyard serve did not stop within %s: killed", timeout)
	}
}

// kill ends the process at once and waits for it.
func (p *railyardProcess) kill() {
	_ = p.cmd.Process.Kill()
	<-p.exited
}

// waitGitQuiet waits, at most timeout, until no `git gc` holds a
// repository of the data directory: Git runs automatic repacks detached,
// so one started by a push may outlive the server and would write into a
// directory being removed.
func waitGitQuiet(dataDir string, timeout time.Duration) {
	locks := []string{
		filepath.Join(dataDir, "git", "manifests.git", "gc.pid"),
		filepath.Join(dataDir, "git", "work.git", "gc.pid"),
	}
	deadline := time.Now().Add(timeout)
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for _, lock := range locks {
		for time.Now().Before(deadline) {
			if _, err := os.Stat(lock); err != nil {
				break
			}
			<-tick.C
		}
	}
}

// removeData removes a scenario's directory once Git has finished with it.
func removeData(dir, dataDir string) error {
	waitGitQuiet(dataDir, 2*time.Minute)
	return os.RemoveAll(dir)
}

// tailBuffer keeps the last max bytes written to it. It is safe for
// concurrent use.
type tailBuffer struct {
	mu  sync.Mutex
	max int
	buf []byte
}

func (b *tailBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.buf = append(b.buf, p...)
	if over := len(b.buf) - b.max; over > 0 {
		b.buf = append(b.buf[:0], b.buf[over:]...)
	}
	return len(p), nil
}

// lastLines returns the last two lines written, after ": ", or "".
func (b *tailBuffer) lastLines() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	lines := strings.Split(strings.TrimSpace(string(b.buf)), "\n")
	if len(lines) == 0 || lines[0] == "" {
		return ""
	}
	return ": " + strings.Join(lines[max(len(lines)-2, 0):], " ")
}
