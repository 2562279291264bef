package main

import (
	"context"
	"fmt"
	"runtime"
	"runtime/debug"

	"github.com/spf13/cobra"
)

// Set at link time by the Makefile's build (-ldflags "-X main.version=…"):
// the output of `git describe`, the commit and the build time. Empty in a
// plain `go build` or `go install`, where readBuildInfo fills them from
// what the Go toolchain stamps into the binary. The linker writes them;
// nothing else does.
var (
	version string
	commit  string
	date    string
)

// unknown stands for what neither the linker nor the toolchain said.
const unknown = "unknown"

// buildInfo is what `railyard version` prints.
type buildInfo struct {
	Version string
	Commit  string
	Date    string
	// Go is the toolchain's version and the target platform.
	Go string
}

// currentBuild returns this binary's build information: the link-time
// values where the Makefile set them, else what the toolchain recorded.
func currentBuild() buildInfo {
	info, _ := debug.ReadBuildInfo()
	return resolveBuild(version, commit, date, info)
}

// resolveBuild fills each field from the link-time value when set, else
// from the toolchain's build information (the module version for
// `go install …@v1.2.3`, the vcs.* settings for a build in a Git
// checkout), else "unknown".
func resolveBuild(linkVersion, linkCommit, linkDate string, info *debug.BuildInfo) buildInfo {
	b := buildInfo{Version: linkVersion, Commit: linkCommit, Date: linkDate, Go: runtime.Version() + " " + runtime.GOOS + "/" + runtime.GOARCH}
	if info != nil {
		if b.Version == "" && info.Main.Version != "" && info.Main.Version != "(devel)" {
			b.Version = info.Main.Version
		}
		modified := false
		for _, s := range info.Settings {
			switch s.Key {
			case "vcs.revision":
				b.Commit = firstNonEmpty(b.Commit, s.Value)
			case "vcs.time":
				if b.Date == "" {
					// The toolchain records when the commit was made, not
					// when the binary was built.
					b.Date = s.Value + " (commit time)"
				}
			case "vcs.modified":
				modified = s.Value == "true"
			}
		}
		if modified && linkCommit == "" && b.Commit != "" {
			// The commit alone would claim a build of exactly that commit.
			b.Commit += " (modified)"
		}
	}
	b.Version = firstNonEmpty(b.Version, unknown)
	b.Commit = firstNonEmpty(b.Commit, unknown)
	b.Date = firstNonEmpty(b.Date, unknown)
	return b
}

// String is the text of `railyard version` and `railyard --version`.
func (b buildInfo) String() string {
	return fmt.Sprintf("railyard %s\ncommit: %s\nbuilt:  %s\ngo:     %s\n", b.Version, b.Commit, b.Date, b.Go)
}

func (m *Main) newVersionCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the version, commit and build time of this binary",
		Long: `Print the version, commit and build time of this binary, and the Go version
it was built with. "railyard --version" prints the same.

A binary built with "make build" carries what git says about the checkout
(git describe, the commit) and the time of the build; one built with
"go build" or "go install" carries what the Go toolchain recorded: the
module version, and the commit and its time when built in a Git checkout.`,
		Args: noArgs,
		RunE: m.run(func(_ context.Context, _ *cobra.Command, _ []string) error {
			m.printf("%s", m.build())
			return nil
		}),
	}
}

// build returns the binary's build information, or the one a test set.
func (m *Main) build() buildInfo {
	if m.Build != nil {
		return *m.Build
	}
	return currentBuild()
}
