package main

import (
	"strings"
	"testing"
)

// TestUsageErrors checks that wrong command lines are refused with exit
// code 2 and a message that says what is wrong, before any request: the
// server address is one where nothing listens, so a request would show as
// exit code 3.
func TestUsageErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		args []string
		want string // the first line of standard error
	}{
		{[]string{"bogus"}, `Error: unknown command "bogus" for "railyard"`},
		{[]string{"lock", "production"}, `Error: unknown command "production" for "railyard lock": use one of app, env, group, list, team`},
		{[]string{"unlock", "nope"}, `Error: unknown command "nope" for "railyard unlock": use one of app, env, group, team`},
		{[]string{"env", "create"}, `Error: unknown command "create" for "railyard env": use one of apply, delete, get, list`},
		{[]string{"status", "--bogus"}, `Error: unknown flag: --bogus`},
		{[]string{"status", "a", "b"}, `Error: railyard status takes at most 1 argument (<app>), got 2: "a b"`},
		{[]string{"status", "-o", "xml"}, `Error: output format "xml" is not known: use table, json or yaml`},
		{[]string{"release"}, `Error: railyard release needs <app>: missing <app>`},
		{[]string{"release", "checkout"}, `Error: give at least one manifest: --manifest <env>=<file> or --manifests-dir <dir>`},
		{[]string{"release", "checkout", "--manifest", "development"}, `Error: --manifest "development" must have the form <env>=<file>`},
		{[]string{"release", "checkout", "--manifest", "a=x", "--manifests-dir", "d"}, `Error: give manifests with either --manifest or --manifests-dir, not both`},
		{[]string{"release", "checkout", "--undeploy", "--manifest", "a=x"}, `Error: --undeploy publishes empty manifests: leave out --manifest and --manifests-dir (use --env to choose environments)`},
		{[]string{"release", "checkout", "--env", "a", "--manifest", "a=x"}, `Error: --env only applies with --undeploy: give manifests with --manifest <env>=<file>`},
		{[]string{"release", "checkout", "--version", "-1", "--manifest", "a=x"}, `Error: --version must be a positive integer, got -1`},
		{[]string{"release", "checkout", "--version", "x"}, `Error: invalid argument "x" for "--version" flag: strconv.ParseInt: parsing "x": invalid syntax`},
		{[]string{"deploy", "checkout"}, `Error: railyard deploy needs <app> <version>: missing <version>`},
		{[]string{"deploy", "checkout", "3"}, `Error: --env is required: the environment to deploy to`},
		{[]string{"deploy", "checkout", "v3", "--env", "production"}, `Error: <version> must be a positive integer, got "v3"`},
		{[]string{"deploy", "checkout", "0", "--env", "production"}, `Error: <version> must be a positive integer, got "0"`},
		{[]string{"deploy", "checkout", "3", "--env", "production", "--lock-behavior", "force"}, `Error: --lock-behavior "force" is not known: use fail, queue or ignore`},
		{[]string{"lock", "env", "production"}, `Error: railyard lock env needs <env> <id>: missing <id>`},
		{[]string{"lock", "env", "production", "freeze"}, `Error: -m/--message is required: say why you lock, so that others know when it can go`},
		{[]string{"lock", "app", "checkout", "hotfix", "-m", "x"}, `Error: --env is required: the environment the application lock applies in`},
		{[]string{"lock", "team", "payments", "q4", "-m", "x"}, `Error: --env is required: the environment the team lock applies in`},
		{[]string{"lock", "env", "production", "freeze", "-m", "x", "--expires-in", "1h", "--expires-at", "2030-01-01T00:00:00Z"}, `Error: give either --expires-in or --expires-at, not both`},
		{[]string{"lock", "env", "production", "freeze", "-m", "x", "--expires-at", "tomorrow"}, `Error: --expires-at "tomorrow" is not an RFC 3339 time such as 2025-12-01T08:00:00Z`},
		{[]string{"lock", "env", "production", "freeze", "-m", "x", "--expires-in", "-1h"}, `Error: --expires-in must be positive, got -1h0m0s`},
		{[]string{"unlock", "app", "checkout", "hotfix"}, `Error: --env is required: the environment the application lock applies in`},
		{[]string{"unlock", "group", "prod"}, `Error: railyard unlock group needs <group> <id>: missing <id>`},
		{[]string{"lock", "list", "--kind", "environment-group"}, `Error: --kind "environment-group" is not known: use environment, application or team`},
		{[]string{"locks", "extra"}, `Error: railyard locks takes no arguments, got "extra"`},
		{[]string{"history", "--since", "yesterday"}, `Error: --since "yesterday" is not a time: use RFC 3339 (2025-11-21T08:00:00Z), a date (2025-11-21) or an age (90m, 24h, 7d)`},
		{[]string{"history", "--limit", "0"}, `Error: --limit must be positive, got 0`},
		{[]string{"env", "apply"}, `Error: give at least one file with -f <file>`},
		{[]string{"env", "get"}, `Error: railyard env get needs <env>: missing <env>`},
		{[]string{"env", "delete", ""}, `Error: railyard env delete: <env> must not be empty`},
		{[]string{"app", "get", "a", "b"}, `Error: railyard app get takes at most 1 argument (<app>), got 2: "a b"`},
		{[]string{"app", "delete"}, `Error: railyard app delete needs <app>: missing <app>`},
		{[]string{"status", "--server", "ftp://example.com"}, `Error: server "ftp://example.com" must be an http:// or https:// URL`},
		{[]string{"serve", "extra"}, `Error: railyard serve takes no arguments, got "extra"`},
		{[]string{"serve", "--log-format", "xml"}, `Error: --log-format "xml" is not known: use text or json`},
		{[]string{"serve", "--lock-expiry-interval", "0s"}, `Error: --lock-expiry-interval must be positive, got 0s`},
		{[]string{"serve", "--reconcile-interval", "-1s"}, `Error: --reconcile-interval must be positive, got -1s`},
		{[]string{"serve", "--train-catch-up", "-1h"}, `Error: --train-catch-up must not be negative, got -1h0m0s`},
		{[]string{"train"}, `Error: railyard train needs <env|group>: missing <env|group>`},
		{[]string{"train", "staging", "production"}, `Error: railyard train takes at most 1 argument (<env|group>), got 2: "staging production"`},
		{[]string{"train", ""}, `Error: railyard train: <env|group> must not be empty`},
		{[]string{"train", "staging", "--dry-run=maybe"}, `Error: invalid argument "maybe" for "--dry-run" flag: strconv.ParseBool: parsing "maybe": invalid syntax`},
		{[]string{"train", "staging", "-o", "xml"}, `Error: output format "xml" is not known: use table, json or yaml`},
		{[]string{"promote"}, `Error: railyard promote needs <app>: missing <app>`},
		{[]string{"promote", "checkout"}, `Error: --to is required: the environment to promote checkout to`},
		{[]string{"promote", "checkout", "production"}, `Error: railyard promote takes at most 1 argument (<app>), got 2: "checkout production"`},
		{[]string{"rollback", "checkout"}, `Error: --env is required: the environment to roll checkout back in`},
		{[]string{"rollback", "checkout", "--env", "production", "--to", "0"}, `Error: --to must be a positive version, got 0`},
		{[]string{"rollback", "checkout", "--env", "production", "--to", "v2"}, `Error: invalid argument "v2" for "--to" flag: strconv.ParseInt: parsing "v2": invalid syntax`},
		{[]string{"rollback", "checkout", "--env", "production", "--lock-behavior", "force"}, `Error: --lock-behavior "force" is not known: use fail, queue or ignore`},
		{[]string{"history", "--kind", "train"}, `Error: --kind "train" is not an event kind: use one of environment.put, environment.delete, release.create, application.delete, deploy, lock.create, lock.delete, lock.expire, release-train, rollback, reconcile`},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			c := newCLI(t, unreachableServer)
			r := c.run(tt.args...)
			if r.code != exitUsage {
				t.Fatalf("exit code %d, want %d\nstderr:\n%s", r.code, exitUsage, r.stderr)
			}
			first, rest, _ := strings.Cut(r.stderr, "\n")
			equal(t, "first line of stderr", first, tt.want)
			if !strings.HasPrefix(rest, "Run 'railyard") || !strings.HasSuffix(rest, " --help' for usage.\n") {
				t.Errorf("stderr does not end with a usage hint:\n%s", r.stderr)
			}
			if r.stdout != "" {
				t.Errorf("stdout = %q, want nothing", r.stdout)
			}
		})
	}
}

// TestUnreachableServer checks exit code 3 and the hint to start the server.
func TestUnreachableServer(t *testing.T) {
	t.Parallel()
	c := newCLI(t, unreachableServer)
	got := c.fail(exitUnreachable, "status", "checkout")
	want := "Error: cannot reach the Railyard server at http://127.0.0.1:1: connect: connection refused\n" +
		"Hint: is `railyard serve` running? Set --server or RAILYARD_SERVER to its URL.\n"
	equal(t, "stderr", got, want)
}

// TestHelp checks that help is printed on standard output with exit code 0.
func TestHelp(t *testing.T) {
	t.Parallel()
	c := newCLI(t, unreachableServer)
	for _, args := range [][]string{{}, {"--help"}, {"lock"}, {"deploy", "--help"}} {
		out := c.ok(args...)
		if !strings.Contains(out, "Usage:") {
			t.Errorf("railyard %s: no usage in output:\n%s", strings.Join(args, " "), out)
		}
	}
}

func TestParseTimeFlag(t *testing.T) {
	t.Parallel()
	tests := []struct {
		value string
		want  string
	}{
		{"2025-11-20T08:30:00Z", "2025-11-20T08:30:00Z"},
		{"2025-11-20T08:30:00+01:00", "2025-11-20T07:30:00Z"},
		{"2025-11-20", "2025-11-20T00:00:00Z"},
		{"90m", "2025-11-21T07:30:00Z"},
		{"24h", "2025-11-20T09:00:00Z"},
		{"7d", "2025-11-14T09:00:00Z"},
	}
	for _, tt := range tests {
		got, err := parseTimeFlag("--since", tt.value, testNow)
		if err != nil {
			t.Errorf("parseTimeFlag(%q): %v", tt.value, err)
			continue
		}
		equal(t, "parseTimeFlag("+tt.value+")", got.UTC().Format("2006-01-02T15:04:05Z07:00"), tt.want)
	}
	for _, bad := range []string{"x", "-5h", "0d", "d", "1.5d"} {
		if _, err := parseTimeFlag("--since", bad, testNow); classify(err) != exitUsage {
			t.Errorf("parseTimeFlag(%q) = %v, want a usage error", bad, err)
		}
	}
}
