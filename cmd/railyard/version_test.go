package main

import (
	"runtime"
	"runtime/debug"
	"testing"
)

// goLine is the go: line of every binary built by this toolchain.
var goLine = runtime.Version() + " " + runtime.GOOS + "/" + runtime.GOARCH

// TestVersionCommand checks `railyard version` and `railyard --version`,
// which print the same.
func TestVersionCommand(t *testing.T) {
	t.Parallel()
	want := "railyard v1.4.2-3-g1a2b3c4\n" +
		"commit: 1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d7e8f9a0b\n" +
		"built:  2026-12-03T10:00:00Z\n" +
		"go:     go1.26.8 linux/amd64\n"
	build := &buildInfo{Version: "v1.4.2-3-g1a2b3c4", Commit: "1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d7e8f9a0b", Date: "2026-12-03T10:00:00Z", Go: "go1.26.8 linux/amd64"}
	for _, args := range [][]string{{"version"}, {"--version"}} {
		c := newCLI(t, unreachableServer)
		c.build = build
		equal(t, args[0], c.ok(args...), want)
	}
	c := newCLI(t, unreachableServer)
	if stderr := c.fail(exitUsage, "version", "extra"); stderr != "Error: railyard version takes no arguments, got \"extra\"\nRun 'railyard version --help' for usage.\n" {
		t.Errorf("version extra: stderr %q", stderr)
	}
}

// TestResolveBuild checks where each field comes from: the link-time
// values of the Makefile's build first, then what the Go toolchain
// recorded, then "unknown".
func TestResolveBuild(t *testing.T) {
	t.Parallel()
	vcs := &debug.BuildInfo{
		Main: debug.Module{Path: "github.com/railyard-cd/railyard", Version: "v0.0.0-20261203100000-1a2b3c4d5e6f"},
		Settings: []debug.BuildSetting{
			{Key: "-buildmode", Value: "exe"},
			{Key: "vcs", Value: "git"},
			{Key: "vcs.revision", Value: "1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d7e8f9a0b"},
			{Key: "vcs.time", Value: "2026-12-03T10:00:00Z"},
			{Key: "vcs.modified", Value: "false"},
		},
	}
	modified := &debug.BuildInfo{Main: debug.Module{Version: "(devel)"}, Settings: []debug.BuildSetting{
		{Key: "vcs.revision", Value: "1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d7e8f9a0b"},
		{Key: "vcs.time", Value: "2026-12-03T10:00:00Z"},
		{Key: "vcs.modified", Value: "true"},
	}}
	tests := []struct {
		name                string
		version, commit, at string
		info                *debug.BuildInfo
		want                buildInfo
	}{
		{"make build", "v1.4.2-dirty", "ffff", "2026-12-04T08:00:00Z", vcs,
			buildInfo{"v1.4.2-dirty", "ffff", "2026-12-04T08:00:00Z", goLine}},
		{"go build in a checkout", "", "", "", vcs,
			buildInfo{"v0.0.0-20261203100000-1a2b3c4d5e6f", "1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d7e8f9a0b", "2026-12-03T10:00:00Z (commit time)", goLine}},
		{"go build with changes", "", "", "", modified,
			buildInfo{"unknown", "1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d7e8f9a0b (modified)", "2026-12-03T10:00:00Z (commit time)", goLine}},
		{"go install at a version", "", "", "", &debug.BuildInfo{Main: debug.Module{Version: "v1.4.2"}},
			buildInfo{"v1.4.2", "unknown", "unknown", goLine}},
		{"no build information", "", "", "", nil, buildInfo{"unknown", "unknown", "unknown", goLine}},
	}
	for _, tt := range tests {
		if got := resolveBuild(tt.version, tt.commit, tt.at, tt.info); got != tt.want {
			t.Errorf("%s: got %+v, want %+v", tt.name, got, tt.want)
		}
	}
}
