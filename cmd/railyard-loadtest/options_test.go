package main

import (
	"strings"
	"testing"
	"time"
)

func TestParseMix(t *testing.T) {
	tests := []struct {
		in      string
		want    Mix
		wantErr string
	}{
		{in: "releases=90,locks=8,trains=2", want: Mix{Releases: 90, Locks: 8, Trains: 2}},
		{in: "releases=100", want: Mix{Releases: 100}},
		{in: " trains=1 , releases=3", want: Mix{Releases: 3, Trains: 1}},
		{in: "locks=5", want: Mix{Locks: 5}},
		{in: "releases=0", wantErr: "positive weight"},
		{in: "releases=90,releases=1", wantErr: "given twice"},
		{in: "deploys=3", wantErr: `"deploys" is not an operation`},
		{in: "releases", wantErr: "not name=weight"},
		{in: "releases=-1", wantErr: "whole number"},
		{in: "releases=1.5", wantErr: "whole number"},
		{in: "", wantErr: "not name=weight"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseMix(tt.in)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("ParseMix(%q) error = %v, want one containing %q", tt.in, err, tt.wantErr)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("ParseMix(%q) = %+v, %v; want %+v", tt.in, got, err, tt.want)
			}
			if again, err := ParseMix(got.String()); err != nil || again != got {
				t.Errorf("ParseMix(%q.String()) = %+v, %v; want the same mix", tt.in, again, err)
			}
		})
	}
}

func TestMixPick(t *testing.T) {
	m := Mix{Releases: 90, Locks: 8, Trains: 2}
	counts := map[op]int{}
	for n := range m.total(false) {
		counts[m.pick(n)]++
	}
	if counts[opRelease] != 90 || counts[opLockCreate] != 8 || counts[opTrain] != 2 {
		t.Errorf("picks over the whole range = %v, want 90 releases, 8 locks, 2 trains", counts)
	}
	if got := m.total(true); got != 98 {
		t.Errorf("total without trains = %d, want 98", got)
	}
	for n := range m.total(true) {
		if m.pick(n) == opTrain {
			t.Fatalf("pick(%d) is a train within the total without trains", n)
		}
	}
}

func TestOptionsValidate(t *testing.T) {
	valid := func() Options {
		o := DefaultOptions()
		o.Releases = 10
		return o
	}
	tests := []struct {
		name    string
		change  func(*Options)
		wantErr string
	}{
		{"defaults with a limit", func(*Options) {}, ""},
		{"no limit", func(o *Options) { o.Releases = 0 }, "give --releases, --duration"},
		{"releases without release weight", func(o *Options) { o.Mix = Mix{Locks: 1} }, "give --duration"},
		{"bad server", func(o *Options) { o.Server = "127.0.0.1:8080" }, "--server"},
		{"small manifest", func(o *Options) { o.ManifestSize = 100 }, "--manifest-size"},
		{"duplicate environment", func(o *Options) { o.Envs = []string{"a", "b", "a"} }, `"a" is named twice`},
		{"unknown setup", func(o *Options) { o.Setup = "tree" }, "--setup"},
		{"group of one", func(o *Options) { o.Setup, o.Envs = SetupGroup, []string{"a"} }, "at least two"},
		{"duration only", func(o *Options) { o.Releases, o.Duration = 0, time.Second }, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := valid()
			tt.change(&o)
			err := o.Validate()
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("Validate() = %v, want nil", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("Validate() = %v, want an error containing %q", err, tt.wantErr)
			}
		})
	}
}

func TestValidateDefaultsTrainTarget(t *testing.T) {
	o := DefaultOptions()
	o.Releases = 1
	if err := o.Validate(); err != nil || o.TrainTarget != "env-02" {
		t.Errorf("train target = %q, %v; want the last environment, env-02", o.TrainTarget, err)
	}
	o = DefaultOptions()
	o.Releases, o.Setup, o.Group = 1, SetupGroup, "prod"
	if err := o.Validate(); err != nil || o.TrainTarget != "group:prod" {
		t.Errorf("train target with --setup group = %q, %v; want group:prod", o.TrainTarget, err)
	}
}

func TestParseArgsScenarioOverrides(t *testing.T) {
	c, err := parseArgs([]string{"--scenario", "a", "--releases", "50", "--clients=4"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if c.Releases != 50 || c.Clients != 4 {
		t.Errorf("flags given: releases %d, clients %d; want 50 and 4", c.Releases, c.Clients)
	}
	if c.Apps != 500 || len(c.Envs) != 3 || c.Setup != SetupChain || c.Mix != (Mix{Releases: 100}) {
		t.Errorf("scenario a's own values: apps %d, envs %v, setup %q, mix %v", c.Apps, c.Envs, c.Setup, c.Mix)
	}
	c, err = parseArgs([]string{"--scenario", "c"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if c.TrainTarget != "group:production" || len(c.Envs) != 6 || c.Mix.Trains != 2 || c.Rate != 50 {
		t.Errorf("scenario c: target %q, envs %v, mix %v, rate %g", c.TrainTarget, c.Envs, c.Mix, c.Rate)
	}
	c, err = parseArgs([]string{"--scenario", "chaos", "--kills", "2"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if c.Rate != 100 || c.Duration != 30*time.Second || c.Apps != 50 || c.chaos != (chaosOptions{kills: 2, hang: 5 * time.Second, gitTimeout: 5 * time.Second}) {
		t.Errorf("scenario chaos: rate %g, duration %s, apps %d, chaos %+v", c.Rate, c.Duration, c.Apps, c.chaos)
	}
	for _, args := range [][]string{
		{"--scenario", "chaos", "--duration", "0"},
		{"--scenario", "chaos", "--kills", "-1"},
		{"--scenario", "chaos", "--hang", "-1s"},
		{"--scenario", "chaos", "--hang-git-timeout", "0"},
		{"--scenario", "d"},
		{"--scenario", "a", "--server", "http://x"},
		{"--scenario", "b", "--git-remote", "/tmp/x"},
		{"--releases", "1", "-o", "yaml"},
		{"--releases", "1", "extra"},
		{"--releases", "1", "--mix", "nope=1"},
	} {
		if _, err := parseArgs(args, nil); err == nil {
			t.Errorf("parseArgs(%q) succeeded, want a usage error", args)
		}
	}
}

// TestParseArgsRemote checks --remote and --backlog: the error of each
// wrong combination says what to fix.
func TestParseArgsRemote(t *testing.T) {
	c, err := parseArgs([]string{"--scenario", "a", "--remote", "http", "--backlog", "20000"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if c.remote != remoteHTTP || c.backlog != 20000 {
		t.Errorf("remote %q, backlog %d; want http and 20000", c.remote, c.backlog)
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--scenario", "a", "--remote", "ssh"}, `--remote "ssh" is not known: use file or http`},
		{[]string{"--scenario", "a", "--backlog", "10"}, "--backlog needs --remote: the backlog is what export to a remote must catch up"},
		{[]string{"--scenario", "a", "--remote", "file", "--backlog", "-1"}, "--backlog must not be negative, got -1"},
		{[]string{"--scenario", "chaos", "--remote", "file"}, "--remote works with --scenario a, b or c (chaos has its own remote)"},
		{[]string{"--releases", "1", "--remote", "file"}, "--remote works with --scenario a, b or c (chaos has its own remote)"},
	} {
		if _, err := parseArgs(tc.args, nil); err == nil || err.Error() != tc.want {
			t.Errorf("parseArgs(%q): %v, want %q", tc.args, err, tc.want)
		}
	}
}
