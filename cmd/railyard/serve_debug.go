package main

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	// Importing net/http/pprof also registers its handlers on
	// http.DefaultServeMux; no server of Railyard serves that mux, so they
	// are reachable only through the debug listener's own mux below.
	"net/http/pprof"
	"os"
	runtimepprof "runtime/pprof"
	"strings"
	"time"

	"github.com/spf13/cobra"
)

// debugOptions are the profiling flags of `railyard serve`. Both are off
// by default.
type debugOptions struct {
	// listen is the address of the listener of the pprof handlers.
	listen string
	// cpuProfile is the file the CPU profile of the whole run goes to.
	cpuProfile string
}

// debugProfiles are the named profiles of runtime/pprof that the debug
// listener serves, each at /debug/pprof/<name>.
var debugProfiles = []string{"allocs", "block", "goroutine", "heap", "mutex", "threadcreate"}

func (o *debugOptions) addFlags(cmd *cobra.Command) {
	fs := cmd.Flags()
	fs.StringVar(&o.listen, "debug-listen", "",
		"serve Go's pprof profiling endpoints at /debug/pprof/ on this separate address, e.g. 127.0.0.1:6060 (env RAILYARD_DEBUG_LISTEN; default: off). "+
			"WARNING: they expose the process's internals; never make this address reachable from outside")
	fs.StringVar(&o.cpuProfile, "cpu-profile", "", "write a CPU profile of the whole run to this file, complete once the server has shut down (read it with go tool pprof)")
	_ = cmd.MarkFlagFilename("cpu-profile")
}

// validate checks that the debug listener cannot be the API's: the
// profiling endpoints must never be served on the public port.
func (o *debugOptions) validate(apiListen string) error {
	if o.listen != "" && o.listen == apiListen && !strings.HasSuffix(apiListen, ":0") {
		return usageErrorf("--debug-listen must not be the address of --listen (%s): the profiling endpoints need a listener of their own", apiListen)
	}
	return nil
}

// debugging is what the profiling flags started: the listener of the
// pprof handlers and the CPU profile. Its zero value, with neither flag
// set, has nothing to stop.
type debugging struct {
	logger *slog.Logger
	// srv serves the pprof handlers on ln; served is closed when it has
	// stopped.
	srv    *http.Server
	ln     net.Listener
	served chan struct{}
	// cpuFile is the CPU profile being written, if any.
	cpuFile *os.File
}

// startDebugging opens the debug listener and starts the CPU profile, as
// the flags ask. It runs before the data directory is touched, so that a
// wrong flag fails before anything is written there.
func startDebugging(o *debugOptions, logger *slog.Logger) (*debugging, error) {
	d := &debugging{logger: logger}
	if o.listen != "" {
		ln, err := listen(o.listen, "--debug-listen", "RAILYARD_DEBUG_LISTEN")
		if err != nil {
			return nil, err
		}
		d.ln = ln
	}
	if o.cpuProfile != "" {
		if err := d.startCPUProfile(o.cpuProfile); err != nil {
			if d.ln != nil {
				d.ln.Close()
			}
			return nil, err
		}
	}
	if d.ln != nil {
		d.serve()
	}
	return d, nil
}

// startCPUProfile creates path and starts writing the CPU profile to it.
// The profile is written directly rather than through a temporary file:
// runtime/pprof writes it only when it stops, in one go, and a file that
// exists from the start shows where the profile will be.
func (d *debugging) startCPUProfile(path string) error {
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("create CPU profile (--cpu-profile): %w", err)
	}
	if err := runtimepprof.StartCPUProfile(f); err != nil {
		f.Close()
		os.Remove(path)
		return fmt.Errorf("start CPU profile: %w", err)
	}
	d.cpuFile = f
	d.logger.Info("writing CPU profile", "file", path)
	return nil
}

// serve serves the pprof handlers on the debug listener until Close.
func (d *debugging) serve() {
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	for _, name := range debugProfiles {
		mux.Handle("/debug/pprof/"+name, pprof.Handler(name))
	}
	d.srv = &http.Server{
		Handler:           mux,
		ReadHeaderTimeout: 10 * time.Second,
		// No WriteTimeout: /debug/pprof/profile and /trace answer after
		// the seconds they are asked to record, and refuse to record
		// longer than a WriteTimeout.
		ErrorLog: slog.NewLogLogger(d.logger.Handler(), slog.LevelWarn),
	}
	addr := d.ln.Addr().String()
	d.logger.Info("serving profiling endpoints", "addr", addr, "url", "http://"+addr+"/debug/pprof/")
	d.served = make(chan struct{})
	go func() {
		defer close(d.served)
		if err := d.srv.Serve(d.ln); !errors.Is(err, http.ErrServerClosed) {
			// The API goes on without its profiling endpoints.
			d.logger.Error("profiling endpoints stopped", "addr", addr, "error", err)
		}
	}()
}

// Close stops the debug listener and then the CPU profile, writing it
// out. The listener is closed at once, not drained: a profile being
// recorded is not worth delaying the shutdown for. Close is called once,
// after the API has shut down, so that the CPU profile covers shutdown.
func (d *debugging) Close() error {
	if d.srv != nil {
		d.srv.Close()
		<-d.served
	}
	if d.cpuFile == nil {
		return nil
	}
	runtimepprof.StopCPUProfile()
	f := d.cpuFile
	d.cpuFile = nil
	// The profile is complete only once it is on disk.
	err := f.Sync()
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("write CPU profile: %w", err)
	}
	d.logger.Info("wrote CPU profile", "file", f.Name())
	return nil
}
