package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/railyard-cd/railyard"
	"github.com/railyard-cd/railyard/internal/golden"
)

// transcript records command lines and what they printed, like a terminal
// session, for golden files that read as documentation.
type transcript struct {
	c *cli
	b strings.Builder
	// dir is the temporary directory of the test's files, shown as "."
	// so that the transcript is the same on every run.
	dir string
}

func (tr *transcript) run(args ...string) result {
	tr.c.t.Helper()
	r := tr.c.run(args...)
	quoted := make([]string, len(args))
	for i, a := range args {
		if tr.dir != "" {
			a = strings.ReplaceAll(a, tr.dir+string(filepath.Separator), "")
		}
		if a == "" || strings.ContainsAny(a, " \"'") {
			a = fmt.Sprintf("%q", a)
		}
		quoted[i] = a
	}
	fmt.Fprintf(&tr.b, "$ railyard %s\n%s%s", strings.Join(quoted, " "), r.stdout, r.stderr)
	if r.code != 0 {
		fmt.Fprintf(&tr.b, "[exit code %d]\n", r.code)
	}
	tr.b.WriteString("\n")
	return r
}

// must runs a command line that must exit with code.
func (tr *transcript) must(code int, args ...string) {
	tr.c.t.Helper()
	if r := tr.run(args...); r.code != code {
		tr.c.t.Fatalf("railyard %s: exit code %d, want %d\n%s%s", strings.Join(args, " "), r.code, code, r.stdout, r.stderr)
	}
}

// TestQuickStart walks the README's quick start in-process against a real
// server and compares the whole session with a golden transcript.
func TestQuickStart(t *testing.T) {
	t.Parallel()
	srv := newTestServer(t)
	dir := t.TempDir()
	envFile := writeFile(t, dir, "environments.yaml", environmentsYAML)
	v1 := writeFile(t, dir, "v1.yaml", manifest("1"))
	v2 := writeFile(t, dir, "v2.yaml", manifest("2"))
	tr := &transcript{c: newCLI(t, srv.URL), dir: dir}

	tr.must(0, "env", "apply", "-f", envFile)
	tr.must(0, "env", "list")
	tr.must(0, "release", "checkout", "--manifest", "development="+v1, "--manifest", "staging="+v1, "--manifest", "production="+v1,
		"--team", "payments", "--source-commit-id", "4f1c2e9", "--source-author", "Jane Doe", "--source-message", "Fix rounding", "--display-version", "1.4.2")
	tr.must(0, "status", "checkout")
	tr.must(0, "lock", "env", "development", "db-migration", "-m", "Migrating the database")
	tr.must(0, "release", "checkout", "--manifest", "development="+v2, "--manifest", "staging="+v2, "--manifest", "production="+v2,
		"--source-commit-id", "9a8b7c6", "--source-author", "Bob", "--source-message", "Show the delivery date", "--display-version", "1.5.0")
	tr.must(0, "status", "checkout")
	tr.must(exitError, "deploy", "checkout", "2", "--env", "development")
	tr.must(0, "locks")
	tr.must(0, "unlock", "env", "development", "db-migration")
	tr.must(0, "status", "checkout")
	tr.must(0, "deploy", "checkout", "2", "--env", "staging")
	tr.must(0, "deploy", "checkout", "2", "--env", "staging")
	tr.must(0, "status")
	tr.must(0, "app", "list")
	tr.must(0, "app", "get", "checkout")
	tr.must(0, "history", "--app", "checkout")
	golden.Equal(t, "testdata/quickstart.golden", tr.b.String())
}

// TestLocks covers every kind of lock, queueing behind them and the lock
// behaviours of a manual deploy.
func TestLocks(t *testing.T) {
	t.Parallel()
	srv := newTestServer(t)
	dir := t.TempDir()
	envs := writeFile(t, dir, "envs.yaml", `name: development
config: {upstream: {latest: true}}
---
name: de-prod
config: {environmentGroup: prod}
---
name: jp-prod
config: {environmentGroup: prod}
`)
	m := writeFile(t, dir, "m.yaml", manifest("1"))
	tr := &transcript{c: newCLI(t, srv.URL), dir: dir}
	tr.must(0, "env", "apply", "-f", envs)
	tr.must(0, "release", "checkout", "--team", "payments", "--manifest", "development="+m, "--manifest", "de-prod="+m, "--manifest", "jp-prod="+m)
	tr.must(0, "lock", "app", "checkout", "hotfix", "--env", "development", "-m", "Testing a hotfix", "--ci-link", "https://ci.example.com/7")
	tr.must(0, "lock", "team", "payments", "q4", "--env", "development", "-m", "Quarter close", "--expires-in", "48h")
	tr.must(0, "lock", "group", "prod", "freeze", "-m", "Black Friday", "--expires-at", "2025-11-28T08:00:00Z")
	tr.must(0, "lock", "list")
	tr.must(0, "lock", "list", "--env", "development", "--kind", "team")
	tr.must(0, "release", "checkout", "--manifest", "development="+m, "--manifest", "de-prod="+m)
	tr.must(exitError, "deploy", "checkout", "1", "--env", "de-prod")
	tr.must(0, "deploy", "checkout", "1", "--env", "de-prod", "--lock-behavior", "queue")
	tr.must(0, "deploy", "checkout", "1", "--env", "jp-prod", "--lock-behavior", "ignore")
	tr.must(0, "status", "checkout")
	tr.must(0, "unlock", "app", "checkout", "hotfix", "--env", "development")
	tr.must(0, "unlock", "team", "payments", "q4", "--env", "development")
	tr.must(0, "unlock", "group", "prod", "freeze")
	tr.must(exitError, "unlock", "env", "development", "nope")
	tr.must(exitError, "lock", "team", "nobody", "x", "--env", "development", "-m", "x")
	tr.must(0, "status", "checkout")
	golden.Equal(t, "testdata/locks.golden", tr.b.String())
}

// TestEnvApply covers the file formats env apply reads.
func TestEnvApply(t *testing.T) {
	t.Parallel()
	srv := newTestServer(t)
	dir := t.TempDir()
	c := newCLI(t, srv.URL)

	// Listed downstream first: applied upstream first, in one batch.
	reversed := writeFile(t, dir, "reversed.yaml", "- name: production\n  config:\n    upstream:\n      environment: staging\n"+
		"- name: staging\n  config:\n    upstream:\n      environment: development\n"+
		"- name: development\n  config:\n    upstream:\n      latest: true\n")
	equal(t, "apply", c.ok("env", "apply", "-f", reversed), "created environment development\ncreated environment staging\ncreated environment production\n")
	equal(t, "apply again", c.ok("env", "apply", "-f", reversed),
		"environment development unchanged\nenvironment staging unchanged\nenvironment production unchanged\n")

	// JSON, one object; and the output of env get applies as it is.
	js := writeFile(t, dir, "staging.json", `{"name": "staging", "config": {"upstream": {"environment": "development"}, "environmentGroup": "eu"}}`)
	equal(t, "apply JSON", c.ok("env", "apply", "-f", js), "updated environment staging\n")
	got := c.ok("env", "get", "staging", "-o", "yaml")
	roundTrip := writeFile(t, dir, "get.yaml", got)
	equal(t, "apply env get output", c.ok("env", "apply", "-f", roundTrip), "environment staging unchanged\n")
	c.stdin = c.ok("env", "list", "-o", "json")
	equal(t, "apply env list output from stdin", c.ok("env", "apply", "-f", "-"),
		"environment development unchanged\nenvironment staging unchanged\nenvironment production unchanged\n")
	c.stdin = ""

	bad := []struct{ name, content, want string }{
		{"typo.yaml", "name: qa\nconfig:\n  upstrem:\n    latest: true\n", `document 1: unknown field "upstrem": check its spelling`},
		{"type.yaml", "name: qa\nconfig:\n  upstream: true\n", `document 1: config.upstream: expected an object, got JSON bool`},
		{"syntax.yaml", "name: [qa\n", `not valid YAML or JSON: yaml: line 1: did not find expected ',' or ']'`},
		{"empty.yaml", "# nothing\n", `holds no environments`},
		{"twice.yaml", "- name: qa\n  config: {}\n- name: qa\n  config: {}\n", `environment "qa" is given twice`},
		{"cycle.yaml", "- name: a\n  config: {upstream: {environment: b}}\n- name: b\n  config: {upstream: {environment: a}}\n", `the upstream chain forms a cycle: a → b → a`},
		{"later.yaml", "- name: qa\n  config: {}\n- name: uat\n  config: {upstream: {environment: nowhere}}\n", `Error: environment uat: upstream.environment "nowhere" does not exist; create it first`},
		{"invalid.yaml", "name: QA\nconfig: {}\n", `environment "QA" is not a valid name`},
	}
	for _, b := range bad {
		path := writeFile(t, dir, b.name, b.content)
		stderr := c.fail(exitError, "env", "apply", "-f", path)
		if !strings.Contains(stderr, b.want) {
			t.Errorf("env apply -f %s: stderr does not contain %q:\n%s", b.name, b.want, stderr)
		}
	}
	if got := c.ok("env", "list"); strings.Contains(got, "qa") {
		t.Errorf("a failed apply changed something:\n%s", got)
	}
	if got := c.ok("env", "get", "development"); !strings.Contains(got, "Upstream:       latest") {
		t.Errorf("env get development:\n%s", got)
	}
	stderr := c.fail(exitError, "env", "delete", "development")
	equal(t, "delete upstream", stderr, "Error: environment development is the upstream of staging: change or delete staging first\n")
	equal(t, "delete", c.ok("env", "delete", "production"), "deleted environment production\n")
	equal(t, "get deleted", c.fail(exitError, "env", "get", "production"), "Error: environment \"production\" not found\n")
}

// TestRelease covers the ways to give manifests, re-publishing, undeploy
// releases and deleting an application.
func TestRelease(t *testing.T) {
	t.Parallel()
	srv := newTestServer(t)
	dir := t.TempDir()
	c := newCLI(t, srv.URL)
	c.ok("env", "apply", "-f", writeFile(t, dir, "envs.yaml", environmentsYAML))

	mdir := filepath.Join(dir, "rendered")
	if err := os.Mkdir(mdir, 0o755); err != nil {
		t.Fatal(err)
	}
	writeFile(t, mdir, "development.yaml", manifest("dev"))
	writeFile(t, mdir, "staging.yml", manifest("staging"))
	writeFile(t, mdir, "README.md", "not a manifest")
	equal(t, "release from dir", c.ok("release", "checkout", "--manifests-dir", mdir), "created release checkout 1; deployed to development\n")
	rel, err := srv.Engine.FindRelease(context.Background(), "checkout", 1)
	if err != nil {
		t.Fatal(err)
	}
	if len(rel.Manifests) != 2 || rel.Manifests["development"] != manifest("dev") || rel.Manifests["staging"] != manifest("staging") {
		t.Errorf("manifests of release 1 = %q", rel.Manifests)
	}

	c.stdin = manifest("stdin")
	equal(t, "release from stdin", c.ok("release", "checkout", "--version", "5", "--manifest", "development=-"), "created release checkout 5; deployed to development\n")
	c.stdin = manifest("stdin")
	equal(t, "identical", c.ok("release", "checkout", "--version", "5", "--manifest", "development=-"), "release checkout 5 already exists (identical)\n")
	c.stdin = manifest("changed")
	stderr := c.fail(exitError, "release", "checkout", "--version", "5", "--manifest", "development=-")
	if !strings.HasPrefix(stderr, "Error: release 5 of checkout already exists with different content in manifests; publish a new version instead\n--- existing/manifests[development]") {
		t.Errorf("conflict: stderr:\n%s", stderr)
	}
	c.stdin = ""

	stderr = c.fail(exitError, "release", "checkout", "--manifest", "qa="+filepath.Join(mdir, "development.yaml"))
	equal(t, "unknown env", stderr, "Error: manifests[qa]: environment \"qa\" does not exist; create it first or leave out its manifest\n")
	stderr = c.fail(exitError, "release", "checkout", "--manifest", "development="+filepath.Join(dir, "missing.yaml"))
	if !strings.HasPrefix(stderr, "Error: read manifest for development: open ") {
		t.Errorf("missing file: stderr:\n%s", stderr)
	}

	equal(t, "delete running", c.fail(exitError, "app", "delete", "checkout"),
		"Error: checkout still runs version 5 in development: release an undeploy version and deploy it to every environment before deleting the application\n")
	equal(t, "undeploy", c.ok("release", "checkout", "--undeploy", "--env", "development"), "created undeploy release checkout 6; deployed to development\n")
	equal(t, "delete", c.ok("app", "delete", "checkout"), "deleted application checkout\n")
	equal(t, "list", c.ok("app", "list"), "No applications.\n")
}

// TestStructuredOutput checks that -o json and -o yaml print the API
// objects.
func TestStructuredOutput(t *testing.T) {
	t.Parallel()
	srv := newTestServer(t)
	dir := t.TempDir()
	c := newCLI(t, srv.URL)
	c.ok("env", "apply", "-f", writeFile(t, dir, "envs.yaml", environmentsYAML))
	m := writeFile(t, dir, "m.yaml", manifest("1"))

	var res railyard.Result
	decode(t, c.ok("release", "checkout", "--manifest", "development="+m, "--manifest", "staging="+m, "-o", "json"), &res)
	if res.Outcome != railyard.OutcomeCreated || res.Release.Version != 1 || res.Event == nil || res.Event.Actor != (railyard.Actor{Name: "Jane Doe", Email: "jane@example.com"}) {
		t.Errorf("release result = %+v", res)
	}
	var detail railyard.ApplicationDetail
	decode(t, c.ok("status", "checkout", "-o", "json"), &detail)
	if v := detail.Environments["development"].Version; v == nil || *v != 1 {
		t.Errorf("status: development runs %v, want 1", v)
	}
	var page eventPage
	decode(t, c.ok("history", "--limit", "2", "-o", "json"), &page)
	if len(page.Events) != 2 || page.Events[0].Kind != railyard.KindReleaseCreate || page.Next == 0 {
		t.Errorf("history page = %+v", page)
	}
	r := c.run("history", "--limit", "2")
	equal(t, "history stderr", r.stderr, fmt.Sprintf("More events: run again with --before %d\n", page.Next))
	if got := c.ok("history", "--before", fmt.Sprint(page.Next), "--kind", "environment.put", "-o", "json"); strings.Count(got, `"kind": "environment.put"`) != 2 {
		t.Errorf("history --before %d:\n%s", page.Next, got)
	}
	golden.Equal(t, "testdata/status_yaml.golden", c.ok("status", "checkout", "-o", "yaml"))
	golden.Equal(t, "testdata/deploy_yaml.golden", c.ok("deploy", "checkout", "1", "--env", "staging", "-o", "yaml"))
}

func decode(t *testing.T, s string, v any) {
	t.Helper()
	if err := json.Unmarshal([]byte(s), v); err != nil {
		t.Fatalf("decode %T: %v\n%s", v, err, s)
	}
}

// TestCompletion checks the dynamic shell completion of names.
func TestCompletion(t *testing.T) {
	t.Parallel()
	srv := newTestServer(t)
	dir := t.TempDir()
	c := newCLI(t, srv.URL)
	c.ok("env", "apply", "-f", writeFile(t, dir, "envs.yaml", environmentsYAML))
	c.ok("release", "checkout", "--team", "payments", "--manifest", "development="+writeFile(t, dir, "m.yaml", manifest("1")))
	c.ok("lock", "env", "development", "freeze", "-m", "x")
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"status", ""}, "checkout\n:4\n"},
		{[]string{"status", "checkout", ""}, ":4\n"},
		{[]string{"deploy", "checkout", "1", "--env", ""}, "development\nproduction\nstaging\n:4\n"},
		{[]string{"lock", "team", ""}, "payments\n:4\n"},
		{[]string{"unlock", "env", "development", ""}, "freeze\n:4\n"},
		{[]string{"unlock", "env", "staging", ""}, ":4\n"},
		{[]string{"release", "checkout", "--manifest", ""}, "development=\nproduction=\nstaging=\n:6\n"},
		{[]string{"release", "checkout", "--manifest", "development="}, ":0\n"},
		{[]string{"status", "-o", ""}, "table\njson\nyaml\n:4\n"},
		{[]string{"env", "get", ""}, "development\nproduction\nstaging\n:4\n"},
		{[]string{"train", ""}, "development\nproduction\nstaging\n:4\n"},
		{[]string{"train", "staging", "--team", ""}, "payments\n:4\n"},
		{[]string{"promote", "checkout", "--to", ""}, "development\nproduction\nstaging\n:4\n"},
		{[]string{"rollback", "checkout", "--env", ""}, "development\nproduction\nstaging\n:4\n"},
		{[]string{"rollback", "checkout", "--lock-behavior", ""}, "fail\nqueue\nignore\n:4\n"},
		{[]string{"history", "--kind", ""}, strings.Join(railyard.EventKinds(), "\n") + "\n:4\n"},
	}
	for _, tt := range tests {
		r := c.run(append([]string{"__complete"}, tt.args...)...)
		equal(t, "railyard __complete "+strings.Join(tt.args, " "), r.stdout, tt.want)
	}
	// Without a server, completion offers nothing rather than failing.
	r := newCLI(t, unreachableServer).run("__complete", "status", "")
	equal(t, "completion without a server", r.stdout, ":4\n")
}
