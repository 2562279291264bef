package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"syscall"
	"time"

	"github.com/railyard-cd/railyard"
	"github.com/railyard-cd/railyard/gitrepo"
	rhttp "github.com/railyard-cd/railyard/http"
	"github.com/railyard-cd/railyard/http/ui"
	"github.com/railyard-cd/railyard/sqlite"
	"github.com/spf13/cobra"
)

// Defaults of serve.
const (
	defaultDataDir           = "./railyard-data"
	defaultListen            = "127.0.0.1:8080"
	defaultReconcileInterval = 10 * time.Second
	defaultTrainCatchUp      = time.Hour
	shutdownTimeout          = 30 * time.Second
)

// serveOptions are the flags of `railyard serve`.
type serveOptions struct {
	dataDir           string
	listen            string
	maxManifestBytes  int64
	maxRequestBytes   int64
	logFormat         string
	logLevel          string
	reconcileInterval time.Duration
	// intervalFlag is the name the interval was given by, for messages.
	intervalFlag string
	trainCatchUp time.Duration
	git          gitOptions
	debug        debugOptions
	http         httpOptions
}

func (m *Main) newServeCommand() *cobra.Command {
	o := &serveOptions{}
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Run the Railyard server",
		Long: `Run the Railyard server: the HTTP API with its SQLite database in the data
directory. It logs to standard error, prints the URL it serves on to standard
output once it accepts connections, and shuts down gracefully on SIGINT or
SIGTERM.`,
		Example: `  railyard serve
  railyard serve --data-dir /var/lib/railyard --listen :8080 --log-format json`,
		Args: noArgs,
		RunE: m.run(func(ctx context.Context, cmd *cobra.Command, _ []string) error {
			if !cmd.Flags().Changed("data-dir") {
				o.dataDir = firstNonEmpty(m.Getenv("RAILYARD_DATA_DIR"), o.dataDir)
			}
			if !cmd.Flags().Changed("listen") {
				o.listen = firstNonEmpty(m.Getenv("RAILYARD_LISTEN"), o.listen)
			}
			if !cmd.Flags().Changed("debug-listen") {
				o.debug.listen = firstNonEmpty(m.Getenv("RAILYARD_DEBUG_LISTEN"), o.debug.listen)
			}
			o.intervalFlag = "--reconcile-interval"
			if cmd.Flags().Changed("lock-expiry-interval") {
				o.intervalFlag = "--lock-expiry-interval"
			}
			if !cmd.Flags().Changed("git-token") {
				o.git.token = m.Getenv("RAILYARD_GIT_TOKEN")
			}
			if err := o.http.fromEnv(cmd, m.Getenv); err != nil {
				return err
			}
			if err := o.git.fromEnv(cmd, m.Getenv); err != nil {
				return err
			}
			return m.serve(ctx, o)
		}),
	}
	fs := cmd.Flags()
	fs.StringVar(&o.dataDir, "data-dir", defaultDataDir, "directory of Railyard's data (created if missing; env RAILYARD_DATA_DIR)")
	fs.StringVar(&o.listen, "listen", defaultListen, "address to listen on (env RAILYARD_LISTEN)")
	fs.Int64Var(&o.maxManifestBytes, "max-manifest-bytes", railyard.DefaultMaxManifestBytes, "largest manifest of one environment a release may have")
	fs.Int64Var(&o.maxRequestBytes, "max-request-bytes", rhttp.DefaultMaxRequestBytes, "largest request body the API accepts")
	fs.StringVar(&o.logFormat, "log-format", "text", "log format: text or json")
	fs.StringVar(&o.logLevel, "log-level", "info", "log level: debug, info, warn or error")
	fs.DurationVar(&o.reconcileInterval, "reconcile-interval", defaultReconcileInterval,
		"how often the scheduler removes expired locks, deploys queued versions nothing blocks any more and runs scheduled release trains (besides waking up when a lock expires, a deploy window opens or a train is due)")
	fs.DurationVar(&o.reconcileInterval, "lock-expiry-interval", defaultReconcileInterval, "the former name of --reconcile-interval")
	_ = fs.MarkHidden("lock-expiry-interval")
	fs.DurationVar(&o.trainCatchUp, "train-catch-up", defaultTrainCatchUp,
		"at start, run the scheduled release trains that fired this long before (while the server was down), once each; 0: only trains that fire from now on")
	o.git.addFlags(cmd)
	o.debug.addFlags(cmd)
	o.http.addFlags(cmd)
	_ = cmd.RegisterFlagCompletionFunc("log-format", cobra.FixedCompletions([]string{"text", "json"}, cobra.ShellCompDirectiveNoFileComp))
	_ = cmd.RegisterFlagCompletionFunc("log-level", cobra.FixedCompletions([]string{"debug", "info", "warn", "error"}, cobra.ShellCompDirectiveNoFileComp))
	_ = cmd.MarkFlagDirname("data-dir")
	return cmd
}

// validate checks the flags before anything is opened.
func (o *serveOptions) validate() error {
	switch {
	case o.dataDir == "":
		return usageErrorf("--data-dir must not be empty")
	case o.maxManifestBytes <= 0:
		return usageErrorf("--max-manifest-bytes must be positive, got %d", o.maxManifestBytes)
	case o.maxRequestBytes <= 0:
		return usageErrorf("--max-request-bytes must be positive, got %d", o.maxRequestBytes)
	case o.reconcileInterval <= 0:
		return usageErrorf("%s must be positive, got %s", o.intervalFlag, o.reconcileInterval)
	case o.trainCatchUp < 0:
		return usageErrorf("--train-catch-up must not be negative, got %s", o.trainCatchUp)
	}
	if err := o.debug.validate(o.listen); err != nil {
		return err
	}
	if err := o.http.validate(o.maxRequestBytes); err != nil {
		return err
	}
	return o.git.validate()
}

// newLogger returns the server's logger on w.
func newLogger(w io.Writer, format, level string) (*slog.Logger, error) {
	var lvl slog.Level
	if err := lvl.UnmarshalText([]byte(level)); err != nil {
		return nil, usageErrorf("--log-level %q is not known: use debug, info, warn or error", level)
	}
	opts := &slog.HandlerOptions{Level: lvl}
	switch format {
	case "text":
		return slog.New(slog.NewTextHandler(w, opts)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(w, opts)), nil
	}
	return nil, usageErrorf("--log-format %q is not known: use text or json", format)
}

// serve runs the server until ctx is cancelled, then shuts it down: it
// stops accepting connections, lets running requests finish, stops the
// scheduler and closes the store.
func (m *Main) serve(ctx context.Context, o *serveOptions) error {
	if err := o.validate(); err != nil {
		return err
	}
	// Resolved once: the built-in Git server runs git in the repository
	// with GIT_PROJECT_ROOT, and a relative path would be resolved again
	// from there.
	dataDir, err := filepath.Abs(o.dataDir)
	if err != nil {
		return fmt.Errorf("data directory: %w", err)
	}
	o.dataDir = dataDir
	logger, err := newLogger(m.Stderr, o.logFormat, o.logLevel)
	if err != nil {
		return err
	}
	// Profiling starts first: the CPU profile covers the whole run, and a
	// wrong profiling flag fails before the data directory is touched.
	dbg, err := startDebugging(&o.debug, logger)
	if err != nil {
		return err
	}
	closeDebug := onceCloser(dbg.Close)
	m.closers = append(m.closers, closeDebug)
	// Listen before the data directory is created: a taken port (a
	// second `make run`) then fails without leaving a directory behind.
	ln, err := listen(o.listen, "--listen", "RAILYARD_LISTEN")
	if err != nil {
		return err
	}
	db, err := openStore(o.dataDir)
	if err != nil {
		ln.Close()
		return err
	}
	m.closers = append(m.closers, onceCloser(db.Close))

	engine := railyard.NewEngine(db)
	engine.MaxManifestBytes = int(o.maxManifestBytes)
	var exporter *gitrepo.Exporter
	if !o.git.disabled {
		if exporter, err = newExporter(ctx, engine, o.dataDir, &o.git, ln, logger); err != nil {
			ln.Close()
			return fmt.Errorf("set up git export: %w", err)
		}
	}
	srv := newHTTPServer(engine, exporter, o, ln.Addr(), logger)
	// The listener accepts connections already: say so before serving, so
	// that whoever sees the server answer has seen this line too.
	url := "http://" + ln.Addr().String()
	logger.Info("serving", "addr", ln.Addr().String(), "url", url, "data_dir", o.dataDir, "database", db.Path())
	m.printf("Railyard listening on %s\n", url)
	serveErr := make(chan error, 1)
	go func() { serveErr <- srv.Serve(ln) }()

	var wg sync.WaitGroup
	loopCtx, stopLoop := context.WithCancel(ctx)
	defer stopLoop()
	wg.Go(func() {
		ticker := time.NewTicker(o.reconcileInterval)
		defer ticker.Stop()
		sch := &railyard.Scheduler{Engine: engine, Logger: logger, Wake: time.After}
		sch.Run(loopCtx, engine.Now().Add(-o.trainCatchUp), ticker.C)
	})
	if exporter != nil {
		st, _ := exporter.Status(ctx)
		logger.Info("exporting to git", "remote", st.Remote, "branch", st.Branch, "serving", url+gitRepoPath)
		wg.Go(func() { runExporter(loopCtx, exporter, o.git.finalSyncLimit, logger) })
	}

	select {
	case err = <-serveErr:
		err = fmt.Errorf("serve HTTP: %w", err)
	case <-ctx.Done():
		logger.Info("shutting down", "reason", context.Cause(ctx).Error())
		err = shutdown(srv)
	}
	stopLoop()
	wg.Wait()
	if derr := closeDebug(); derr != nil && err == nil {
		err = derr
	}
	if cerr := m.Close(); cerr != nil && err == nil {
		err = fmt.Errorf("close store: %w", cerr)
	}
	if err == nil {
		logger.Info("stopped")
	}
	return err
}

// newHTTPServer returns the HTTP server of the API over engine, with the
// web UI and, when there is an exporter, the read-only Git server of its
// repository, for a listener on addr. The API server routes to all of
// them (rhttp.Server.Handler) and puts its guard (allowed hosts,
// cross-site requests, body rate and memory, write deadlines) in front of
// every request.
func newHTTPServer(engine *railyard.Engine, exporter *gitrepo.Exporter, o *serveOptions, addr net.Addr, logger *slog.Logger) *http.Server {
	opts := rhttp.Options{
		MaxManifestBytes: o.maxManifestBytes,
		MaxRequestBytes:  o.maxRequestBytes,
		Logger:           logger,
		Ready:            dataDirReady(o.dataDir),
	}
	o.http.apply(&opts, o.http.resolveAllowedHosts(addr, logger))
	uiOpts := ui.Options{Logger: logger.With("component", "ui")}
	if exporter != nil {
		opts.ExportStatus = exporter.Status
		uiOpts.ExportStatus = exporter.Status
		opts.Git = gitrepo.NewHTTPHandler(gitRepoPath, exporter.Dir())
	}
	web := ui.NewHandler(engine, uiOpts)
	opts.UI = web
	apiServer := rhttp.NewServer(engine, opts)
	srv := &http.Server{
		Handler:  apiServer.Handler(),
		ErrorLog: slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
	apiServer.ConfigureHTTPServer(srv)
	// Live-update streams never end by themselves: end them at shutdown.
	srv.RegisterOnShutdown(web.Close)
	return srv
}

// listen opens a TCP listener on addr, which flag (or the environment
// variable env) set. An address in use gets a hint on choosing another:
// it is what a second `make run` runs into.
func listen(addr, flag, env string) (net.Listener, error) {
	ln, err := net.Listen("tcp", addr)
	switch {
	case errors.Is(err, syscall.EADDRINUSE):
		return nil, &hintedError{
			err:     fmt.Errorf("listen on %s (%s): %w", addr, flag, err),
			message: fmt.Sprintf("cannot listen on %s (%s): the address is already in use", addr, flag),
			hint:    fmt.Sprintf("another program (another railyard serve?) listens on %s: stop it, or choose another address with %s or %s (port 0 picks a free one, and serve prints its URL)", addr, flag, env),
		}
	case err != nil:
		return nil, fmt.Errorf("listen on %s (%s): %w", addr, flag, err)
	}
	return ln, nil
}

// openStore creates the data directory (readable only by its owner) and
// opens the SQLite database in it.
func openStore(dataDir string) (*sqlite.DB, error) {
	if err := os.MkdirAll(dataDir, 0o700); err != nil {
		return nil, fmt.Errorf("create data directory: %w", err)
	}
	db := sqlite.NewDB(filepath.Join(dataDir, "railyard.db"))
	if err := db.Open(); err != nil {
		return nil, fmt.Errorf("open database: %w", err)
	}
	return db, nil
}

// shutdown stops the HTTP server gracefully, waiting at most
// shutdownTimeout for running requests.
func shutdown(srv *http.Server) error {
	ctx, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(ctx); err != nil {
		return fmt.Errorf("shut down HTTP server: %w", err)
	}
	return nil
}

// onceCloser returns a close function that closes only the first time.
func onceCloser(close func() error) func() error {
	var once sync.Once
	var err error
	return func() error {
		once.Do(func() { err = close() })
		return err
	}
}
