package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"

	rhttp "github.com/railyard-cd/railyard/http"
	"github.com/spf13/cobra"
)

// httpOptions are the flags of `railyard serve` that protect the HTTP
// edge: allowed hosts, and the limits of slow and large requests
// (docs/security.md).
type httpOptions struct {
	allowedHosts      []string
	maxBodyMemory     int64
	bodyTimeout       time.Duration
	minBodyRate       int64
	readHeaderTimeout time.Duration
	writeTimeout      time.Duration
	idleTimeout       time.Duration
}

// httpFlagEnv maps each flag of httpOptions to its environment variable.
var httpFlagEnv = []struct{ flag, env string }{
	{"allowed-hosts", "RAILYARD_ALLOWED_HOSTS"},
	{"max-body-memory", "RAILYARD_MAX_BODY_MEMORY"},
	{"body-timeout", "RAILYARD_BODY_TIMEOUT"},
	{"min-body-rate", "RAILYARD_MIN_BODY_RATE"},
	{"read-header-timeout", "RAILYARD_READ_HEADER_TIMEOUT"},
	{"write-timeout", "RAILYARD_WRITE_TIMEOUT"},
	{"idle-timeout", "RAILYARD_IDLE_TIMEOUT"},
}

// loopbackHosts are the host names allowed by default when the server
// listens on loopback only: "localhost" and the names under it, which
// browsers resolve to loopback themselves (RFC 6761).
var loopbackHosts = []string{"localhost", "*.localhost"}

func (o *httpOptions) addFlags(cmd *cobra.Command) {
	fs := cmd.Flags()
	fs.StringSliceVar(&o.allowedHosts, "allowed-hosts", nil,
		"host names the Host header may carry, comma-separated: a name, *.example.com for the names under it, or * for any; "+
			"IP addresses are always allowed (env RAILYARD_ALLOWED_HOSTS; default: localhost and *.localhost when --listen is a loopback address, else any)")
	fs.Int64Var(&o.maxBodyMemory, "max-body-memory", rhttp.DefaultMaxBodyMemory,
		"bytes of request bodies all requests may hold at once; a request that finds no room waits --body-timeout, then gets 503 (env RAILYARD_MAX_BODY_MEMORY)")
	fs.DurationVar(&o.bodyTimeout, "body-timeout", rhttp.DefaultBodyTimeout,
		"a request body must deliver --min-body-rate × this many bytes (or end) in every window of this length, else 408 (env RAILYARD_BODY_TIMEOUT)")
	fs.Int64Var(&o.minBodyRate, "min-body-rate", rhttp.DefaultMinBodyRate,
		"slowest rate of a request body, in bytes per second, measured over --body-timeout (env RAILYARD_MIN_BODY_RATE)")
	fs.DurationVar(&o.readHeaderTimeout, "read-header-timeout", rhttp.DefaultReadHeaderTimeout,
		"time a client has to send the headers of a request (env RAILYARD_READ_HEADER_TIMEOUT)")
	fs.DurationVar(&o.writeTimeout, "write-timeout", rhttp.DefaultWriteTimeout,
		"time one write of an answer may wait for a client that does not read; long answers (Git clones, the UI's live updates) last as long as they flow (env RAILYARD_WRITE_TIMEOUT)")
	fs.DurationVar(&o.idleTimeout, "idle-timeout", rhttp.DefaultIdleTimeout,
		"time a keep-alive connection may wait for its next request (env RAILYARD_IDLE_TIMEOUT)")
}

// fromEnv sets the flags not given on the command line from their
// environment variables, parsed as the flags parse them.
func (o *httpOptions) fromEnv(cmd *cobra.Command, getenv func(string) string) error {
	for _, fe := range httpFlagEnv {
		v := getenv(fe.env)
		if v == "" || cmd.Flags().Changed(fe.flag) {
			continue
		}
		if err := cmd.Flags().Set(fe.flag, v); err != nil {
			return usageErrorf("%s=%q is not a valid --%s: %v", fe.env, v, fe.flag, err)
		}
	}
	return nil
}

// validate checks the flags; maxRequestBytes is --max-request-bytes.
func (o *httpOptions) validate(maxRequestBytes int64) error {
	switch {
	case o.maxBodyMemory < maxRequestBytes:
		return usageErrorf("--max-body-memory (%d) must be at least --max-request-bytes (%d): a request of the largest size must fit", o.maxBodyMemory, maxRequestBytes)
	case o.minBodyRate <= 0:
		return usageErrorf("--min-body-rate must be positive, got %d", o.minBodyRate)
	}
	for _, d := range []struct {
		name string
		v    time.Duration
	}{{"--body-timeout", o.bodyTimeout}, {"--read-header-timeout", o.readHeaderTimeout}, {"--write-timeout", o.writeTimeout}, {"--idle-timeout", o.idleTimeout}} {
		if d.v <= 0 {
			return usageErrorf("%s must be positive, got %s", d.name, d.v)
		}
	}
	for _, h := range o.allowedHosts {
		name := strings.TrimPrefix(h, "*.")
		if h != "*" && (name == "" || strings.ContainsAny(name, " /:@*[]")) {
			return usageErrorf("--allowed-hosts: %q is not a host name, *.domain or *", h)
		}
	}
	return nil
}

// apply sets the options on the API server's options. hosts are the
// allowed hosts resolved against the listener (resolveAllowedHosts).
func (o *httpOptions) apply(opts *rhttp.Options, hosts []string) {
	opts.AllowedHosts = hosts
	opts.MaxBodyMemory = o.maxBodyMemory
	opts.BodyTimeout = o.bodyTimeout
	opts.MinBodyRate = o.minBodyRate
	opts.ReadHeaderTimeout = o.readHeaderTimeout
	opts.WriteTimeout = o.writeTimeout
	opts.IdleTimeout = o.idleTimeout
}

// resolveAllowedHosts returns the allowed hosts for a server listening on
// addr: the flag's list, "*" meaning any (nil); without the flag,
// loopbackHosts when addr is a loopback address, else any.
func (o *httpOptions) resolveAllowedHosts(addr net.Addr, logger *slog.Logger) []string {
	if len(o.allowedHosts) > 0 {
		if slices.Contains(o.allowedHosts, "*") {
			return nil
		}
		return o.allowedHosts
	}
	if tcp, ok := addr.(*net.TCPAddr); ok && tcp.IP.IsLoopback() {
		return loopbackHosts
	}
	logger.Warn("--allowed-hosts is not set and the server listens beyond loopback: it answers to any Host name, "+
		"so a web page using DNS rebinding could reach it; set --allowed-hosts to the names clients use", "addr", addr.String())
	return nil
}

// readyProbeName is the file /readyz writes in the data directory.
const readyProbeName = ".readyz-probe"

// dataDirReady returns the readiness check of the data directory: it
// writes a small file there, syncs it to disk and removes it, so that
// /readyz fails while the disk is full or read-only, which a read of the
// database alone does not notice. Checks run one at a time.
func dataDirReady(dataDir string) func(context.Context) error {
	var mu sync.Mutex
	path := filepath.Join(dataDir, readyProbeName)
	return func(context.Context) error {
		mu.Lock()
		defer mu.Unlock()
		if err := writeProbe(path); err != nil {
			return fmt.Errorf("the data directory cannot be written: %s", probeCause(err))
		}
		return nil
	}
}

// probeBlock is the probe file's content: one file system block, so that
// a full disk refuses it (a smaller write may fit in a block the file
// system already holds).
var probeBlock = make([]byte, 4096)

// writeProbe writes, syncs and removes the probe file. A failed probe
// leaves the file for the next one to truncate.
func writeProbe(path string) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	_, err = f.Write(probeBlock)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	return os.Remove(path)
}

// probeCause is what /readyz says about a failed probe: the system's
// words ("no space left on device", "read-only file system"), without
// the path.
func probeCause(err error) string {
	var errno syscall.Errno
	if errors.As(err, &errno) {
		return errno.Error()
	}
	return err.Error()
}
